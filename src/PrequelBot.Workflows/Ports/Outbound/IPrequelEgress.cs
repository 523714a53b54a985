using System.Net;

namespace PrequelBot.Workflows.Ports;

/// <summary>
/// Where Prequel's connections come from: the static IPv4 addresses the network steps open the database to
/// (docs/aws.md, "Security group" and "Network ACL"). The Prequel adapter owns the setting (<c>Prequel:StaticIps</c>);
/// the AWS steps read it through this port, fresh on every plan, so a change between a prompt and its click is seen
/// by the re-plan before apply (docs/workflow.md, "Approvals bound to the change").
/// </summary>
public interface IPrequelEgress
{
    /// <summary>
    /// The distinct addresses in configured order. Throws <see cref="StepFailedException"/> with a message naming the
    /// setting when none is configured or one is not an IPv4 address.
    /// </summary>
    IReadOnlyList<IPAddress> StaticIps();
}
