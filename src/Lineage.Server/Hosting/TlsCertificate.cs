using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Lineage.Core.Errors;

namespace Lineage.Server.Hosting;

/// <summary>
/// Loads the certificate Kestrel serves HTTPS with: a PEM certificate with its PEM key (<c>--tls-cert</c> +
/// <c>--tls-key</c>), a PEM file holding both, or a PKCS#12 file (.pfx/.p12) whose password, if any, is in
/// <c>LINEAGE_TLS_PASSWORD</c> (not a flag, so it stays out of process listings).
/// </summary>
public static class TlsCertificate
{
    public const string PasswordVariable = "LINEAGE_TLS_PASSWORD";

    public static X509Certificate2 Load(string certificatePath, string? keyPath)
    {
        X509Certificate2 certificate;
        try
        {
            var pkcs12 = keyPath is null && Path.GetExtension(certificatePath).ToLowerInvariant() is ".pfx" or ".p12";
            certificate = pkcs12
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, Environment.GetEnvironmentVariable(PasswordVariable))
                : X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw LineageException.Invalid("tls-cert", $"cannot load the TLS certificate '{certificatePath}'{(keyPath is null ? "" : $" with key '{keyPath}'")}: {ex.Message}");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw LineageException.Invalid("tls-key", $"'{certificatePath}' has no private key: pass it with --tls-key (PEM) or use a .pfx that contains it");
        }
        return certificate;
    }
}
