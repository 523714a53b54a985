using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PrequelBot.State.Secrets;

/// <summary>The certificate of <c>DataProtection:CertificatePath</c>, loaded once on first use. Singleton.</summary>
public sealed class KeyRingCertificate(IOptions<KeyRingOptions> options) : IDisposable
{
    private readonly Lazy<X509Certificate2> _certificate = new(() =>
    {
        var o = options.Value;
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(o.CertificatePath!, o.CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException("DataProtection:CertificatePath must be a PFX with the private key.");
        }
        return certificate;
    });

    public X509Certificate2 Certificate => _certificate.Value;

    public void Dispose()
    {
        if (_certificate.IsValueCreated) _certificate.Value.Dispose();
    }
}

/// <summary>
/// Encrypts each Data Protection key to the configured certificate (XML Encryption, as the built-in
/// <see cref="CertificateXmlEncryptor"/> does), and names <see cref="CertificateKeyRingDecryptor"/> to read it back: that
/// one finds the certificate in the configuration instead of the machine's certificate store.
/// </summary>
public sealed class CertificateKeyRingEncryptor(KeyRingCertificate certificate, ILoggerFactory loggers) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var inner = new CertificateXmlEncryptor(certificate.Certificate, loggers).Encrypt(plaintextElement);
        return new EncryptedXmlInfo(inner.EncryptedElement, typeof(CertificateKeyRingDecryptor));
    }
}

/// <summary>Decrypts what <see cref="CertificateKeyRingEncryptor"/> stored, with the private key of the configured certificate.</summary>
public sealed class CertificateKeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var certificate = services.GetRequiredService<KeyRingCertificate>().Certificate;
        var document = new XmlDocument();
        using (var reader = new XElement("root", encryptedElement).CreateReader()) document.Load(reader);
        new WithCertificate(document, certificate).DecryptDocument();
        using var subtree = document.DocumentElement!.FirstChild!.CreateNavigator()!.ReadSubtree();
        return XElement.Load(subtree);
    }

    /// <summary>XML decryption whose session key comes from <paramref name="certificate"/> when the key info names it.</summary>
    private sealed class WithCertificate(XmlDocument document, X509Certificate2 certificate) : EncryptedXml(document)
    {
        public override byte[]? DecryptEncryptedKey(EncryptedKey encryptedKey)
        {
            ArgumentNullException.ThrowIfNull(encryptedKey);
            foreach (var clause in encryptedKey.KeyInfo.OfType<KeyInfoX509Data>())
            {
                foreach (var named in clause.Certificates?.OfType<X509Certificate2>() ?? [])
                {
                    if (!string.Equals(named.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase)) continue;
                    using var key = certificate.GetRSAPrivateKey();
                    if (key is null || encryptedKey.CipherData.CipherValue is not { } value) continue;
                    return DecryptKey(value, key, encryptedKey.EncryptionMethod?.KeyAlgorithm == XmlEncRSAOAEPUrl);
                }
            }
            return base.DecryptEncryptedKey(encryptedKey);
        }
    }
}
