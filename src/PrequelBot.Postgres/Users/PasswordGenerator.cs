using System.Security.Cryptography;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// Generates the read-only user's password: letters and digits only (clear of the characters Prequel warns
/// break connection strings), from a cryptographic RNG without modulo bias.
/// </summary>
public static class PasswordGenerator
{
    public const int DefaultLength = 40;
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string Generate(int length = DefaultLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 32);
        return new string(RandomNumberGenerator.GetItems<char>(Alphabet, length));
    }
}
