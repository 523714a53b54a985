using System.Security.Cryptography;
using System.Text;
using PrequelBot.Postgres.Users;

namespace PrequelBot.Postgres.Tests;

public sealed class ScramSha256VerifierTests
{
    // RFC 7677 section 3 test vector.
    private const string Salt = "W22ZaJ0SNY7soEsUEjb6gQ==";
    private const string AuthMessage =
        "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string ClientProof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string ServerSignature = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    [Fact]
    public void Verifier_of_the_rfc7677_vector_reproduces_its_server_signature_and_client_proof()
    {
        var verifier = ScramSha256Verifier.Compute("pencil", Convert.FromBase64String(Salt), 4096);

        var parts = verifier.Split('$');
        var keys = parts[2].Split(':');
        var storedKey = Convert.FromBase64String(keys[0]);
        var serverKey = Convert.FromBase64String(keys[1]);
        var authMessage = Encoding.UTF8.GetBytes(AuthMessage);
        var clientSignature = HMACSHA256.HashData(storedKey, authMessage);
        var clientKey = Convert.FromBase64String(ClientProof).Zip(clientSignature, (a, b) => (byte)(a ^ b)).ToArray();

        Assert.Equal("SCRAM-SHA-256", parts[0]);
        Assert.Equal($"4096:{Salt}", parts[1]);
        Assert.Equal(ServerSignature, Convert.ToBase64String(HMACSHA256.HashData(serverKey, authMessage)));
        Assert.Equal(storedKey, SHA256.HashData(clientKey));
    }

    [Fact]
    public void Two_verifiers_of_one_password_use_different_salts()
    {
        Assert.NotEqual(ScramSha256Verifier.Compute("samepassword"), ScramSha256Verifier.Compute("samepassword"));
    }

    [Fact]
    public void Generated_passwords_are_long_alphanumeric_and_distinct()
    {
        var passwords = Enumerable.Range(0, 50).Select(_ => PasswordGenerator.Generate()).ToList();

        Assert.All(passwords, p => Assert.True(p.Length >= 32 && p.All(char.IsAsciiLetterOrDigit), p.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(passwords.Count, passwords.Distinct().Count());
    }
}
