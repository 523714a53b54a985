using System.Security.Cryptography;
using System.Text;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// Computes a PostgreSQL SCRAM-SHA-256 password verifier client-side (RFC 5802 / RFC 7677), so the clear
/// password never travels in a SQL statement that a server log (<c>log_statement=ddl</c>) could record.
/// Format: <c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;</c> (base64).
/// </summary>
public static class ScramSha256Verifier
{
    public const int DefaultIterations = 4096;
    public const int SaltLength = 16;

    /// <summary>A verifier with a fresh random 16-byte salt.</summary>
    public static string Compute(string password) => Compute(password, RandomNumberGenerator.GetBytes(SaltLength), DefaultIterations);

    /// <summary>A verifier with the given salt and iteration count (for test vectors).</summary>
    public static string Compute(string password, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(salt);
        // SASLprep is the identity for ASCII letters and digits, which is all the generator produces.
        var saltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(saltedPassword, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(saltedPassword, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }
}
