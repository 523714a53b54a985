using System.Xml.Linq;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PrequelBot.Aws.Kms;

/// <summary>
/// <c>DataProtection:KmsKeyId</c> as the AWS adapter reads it (the storage project owns the rest of the section and
/// refuses it together with a certificate). Empty: no KMS.
/// </summary>
public sealed class KmsKeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>An AWS KMS key id, alias (<c>alias/…</c>) or ARN.</summary>
    public string? KmsKeyId { get; set; }
}

/// <summary>
/// The KMS client for the key ring, created on first use from <see cref="AwsEndpoint"/> (region, <c>Aws:ServiceUrl</c>)
/// and the SDK default credentials. Singleton.
/// </summary>
public sealed class KmsKeyRing : IDisposable
{
    /// <summary>Bound into every ciphertext: a blob encrypted for anything else does not decrypt as a key ring key.</summary>
    public static readonly IReadOnlyDictionary<string, string> EncryptionContext =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["purpose"] = "PrequelBot.DataProtection.KeyRing.v1" };

    private readonly Lazy<IAmazonKeyManagementService> _client;

    public KmsKeyRing(AwsEndpoint endpoint, IOptions<KmsKeyRingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        KeyId = options.Value.KmsKeyId?.Trim() ?? "";
        _client = new(() => new AmazonKeyManagementServiceClient(endpoint.Configure(new AmazonKeyManagementServiceConfig())));
    }

    /// <summary><c>DataProtection:KmsKeyId</c>.</summary>
    public string KeyId { get; }

    public IAmazonKeyManagementService Client => _client.Value;

    public void Dispose()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
    }
}

/// <summary>
/// Encrypts each Data Protection key with AWS KMS <c>Encrypt</c> (https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html)
/// under <c>DataProtection:KmsKeyId</c> and <see cref="KmsKeyRing.EncryptionContext"/>. The stored element holds only the
/// ciphertext blob and the key's name; reading it back needs <c>kms:Decrypt</c> on that key.
/// </summary>
public sealed class KmsXmlEncryptor(KmsKeyRing ring) : IXmlEncryptor
{
    public const string ElementName = "kmsEncryptedKey";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        using var plaintext = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting)));
        // IXmlEncryptor is synchronous; a key is made once per rotation (90 days), so blocking here is rare and brief.
        var response = ring.Client.EncryptAsync(new EncryptRequest
        {
            KeyId = ring.KeyId,
            Plaintext = plaintext,
            EncryptionContext = new Dictionary<string, string>(KmsKeyRing.EncryptionContext),
        }).GetAwaiter().GetResult();
        var element = new XElement(ElementName,
            new XComment(" This key is encrypted with AWS KMS. "),
            new XElement("keyId", response.KeyId),
            new XElement("value", Convert.ToBase64String(response.CiphertextBlob.ToArray())));
        return new EncryptedXmlInfo(element, typeof(KmsXmlDecryptor));
    }
}

/// <summary>
/// Decrypts what <see cref="KmsXmlEncryptor"/> stored with AWS KMS <c>Decrypt</c>, pinned to the key id recorded with the
/// ciphertext. Created by Data Protection from the type name in the stored XML, with the application's services.
/// </summary>
public sealed class KmsXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var ring = services.GetRequiredService<KmsKeyRing>();
        var value = encryptedElement.Element("value")?.Value ?? throw new InvalidOperationException("The KMS-encrypted key has no value.");
        var keyId = encryptedElement.Element("keyId")?.Value;
        using var ciphertext = new MemoryStream(Convert.FromBase64String(value));
        var response = ring.Client.DecryptAsync(new DecryptRequest
        {
            CiphertextBlob = ciphertext,
            KeyId = string.IsNullOrEmpty(keyId) ? null : keyId,
            EncryptionContext = new Dictionary<string, string>(KmsKeyRing.EncryptionContext),
        }).GetAwaiter().GetResult();
        using var plaintext = response.Plaintext;
        return XElement.Parse(System.Text.Encoding.UTF8.GetString(plaintext.ToArray()));
    }
}
