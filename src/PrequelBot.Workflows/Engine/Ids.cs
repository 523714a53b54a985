using System.Security.Cryptography;

namespace PrequelBot.Workflows.Engine;

/// <summary>Makes ids: onboardings <c>ob-</c> + 8, approvals <c>ap-</c> + 12 lower-case letters or digits.</summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string NewOnboardingId() => "ob-" + RandomNumberGenerator.GetString(Alphabet, 8);

    public static string NewApprovalId() => "ap-" + RandomNumberGenerator.GetString(Alphabet, 12);

    /// <summary>
    /// A worker identity for leases: process + random part, unique per call. It names an owner, it guards nothing, so
    /// the random part comes from <see cref="Random.Shared"/> (seeded by the OS) rather than the cryptographic generator,
    /// which on Linux starts OpenSSL: the reconciler makes one at start-up, and an idle node need not load it.
    /// </summary>
    public static string NewLeaseOwner() => $"{Environment.MachineName}:{Environment.ProcessId}:{new string(Random.Shared.GetItems<char>(Alphabet, 8))}";
}
