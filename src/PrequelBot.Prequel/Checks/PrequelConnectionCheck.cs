using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel.Checks;

/// <summary>
/// The Prequel part of <c>check</c> (docs/workflow.md, "Check"): the recorded source is still listed (<c>GET /sources</c>)
/// with the host, port, database and user the connect gave it. Reads only.
/// </summary>
public sealed class PrequelConnectionCheck(IPrequelClient prequel, IOptions<DatabasesOptions> databases) : IConnectionCheck
{
    public string Area => "Prequel";

    public async Task<IReadOnlyList<CheckFinding>> CheckAsync(ConnectionCheckContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Changes.PrequelSourceId is not { } id) return [CheckFinding.Drift("no Prequel source is recorded for this connection; connect it again")];
        var source = (await prequel.ListSourcesAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.Id == id);
        if (source is null) return [CheckFinding.Drift($"Prequel source {id} no longer exists")];
        var target = context.Facts.Target ?? context.Facts.Source;
        List<(string Field, string? Want, string? Have)> fields =
        [
            ("host", target?.EndpointAddress, source.Host),
            ("port", target?.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), source.Port?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("database", RegisterSourceStepHandler.DatabaseOf(databases.Value, context.Request.DatabaseAlias, context.Facts), source.Database),
            ("user", context.Changes.RoleName ?? context.Request.UserName, source.Username),
        ];
        // A field Prequel's answer leaves out cannot be compared; it is not called drift.
        var drifted = fields.Where(f => f.Have is not null && f.Want is not null && !string.Equals(f.Want, f.Have, StringComparison.OrdinalIgnoreCase)).ToList();
        var unknown = fields.Where(f => f.Have is null).Select(f => f.Field).ToList();
        if (drifted.Count > 0)
            return [CheckFinding.Drift($"Prequel source {source.Name} ({id}) has {string.Join(", ", drifted.Select(f => $"{f.Field} {f.Have} instead of {f.Want}"))}")];
        var compared = fields.Where(f => f.Have is not null).Select(f => $"{f.Field} {f.Have}").ToList();
        var with = compared.Count == 0 ? "" : $" with {string.Join(", ", compared)}";
        var missing = unknown.Count == 0 ? "" : $" (Prequel does not list its {string.Join(", ", unknown)})";
        return [CheckFinding.Fine($"Prequel source {source.Name} ({id}) is present{with}{missing}")];
    }
}
