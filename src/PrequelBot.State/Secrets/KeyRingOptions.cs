using Microsoft.Extensions.Options;

namespace PrequelBot.State.Secrets;

/// <summary>
/// <c>DataProtection</c> section (docs/security.md, "Key ring and state at rest"): how the Data Protection key ring is
/// encrypted in the state store. At most one of <see cref="KmsKeyId"/> and <see cref="CertificatePath"/>; with neither
/// the ring is stored unencrypted and start-up logs a warning.
/// </summary>
public sealed class KeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>An AWS KMS key (id, alias or ARN) that encrypts each key of the ring; AWS SDK default credentials, <c>Aws:ServiceUrl</c> honoured.</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>A PFX file whose certificate (with its private key) encrypts the ring.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PFX password, if any. A secret: environment variable <c>DataProtection__CertificatePassword</c>.</summary>
    public string? CertificatePassword { get; set; }

    public bool UsesKms => !string.IsNullOrWhiteSpace(KmsKeyId);

    public bool UsesCertificate => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>Fails start-up when both protections are set, or the certificate file is missing.</summary>
internal sealed class KeyRingOptionsValidator : IValidateOptions<KeyRingOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingOptions options)
    {
        if (options.UsesKms && options.UsesCertificate)
            return ValidateOptionsResult.Fail("DataProtection:KmsKeyId and DataProtection:CertificatePath are both set: keep one.");
        if (options.UsesCertificate && !File.Exists(options.CertificatePath))
            return ValidateOptionsResult.Fail($"DataProtection:CertificatePath names no file (got '{options.CertificatePath}').");
        return ValidateOptionsResult.Success;
    }
}
