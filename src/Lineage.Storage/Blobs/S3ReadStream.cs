using Amazon.S3;
using Amazon.S3.Model;

namespace Lineage.Storage.Blobs;

/// <summary>
/// A read-only, seekable view of one S3 object. Nothing is fetched until the first read; a read opens one ranged GET
/// from the current position to the end and streams it, and a seek elsewhere closes it. So HTTP Range answers
/// (ASP.NET seeks, then reads the range) cost one GET of just those bytes, and memory stays at the copy buffer.
/// Not thread-safe, like every stream.
/// </summary>
internal sealed class S3ReadStream(IAmazonS3 s3, S3Settings settings, string key, long length) : Stream
{
    private GetObjectResponse? _response;
    private Stream? _body;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        if (target < 0) throw new IOException("cannot seek before the start of the object");
        if (target != _position) Close(dropResponse: true);
        _position = target;
        return _position;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        try
        {
            if (_body is null)
            {
                _response = await s3.GetObjectAsync(new GetObjectRequest
                {
                    BucketName = settings.Bucket, Key = key, ByteRange = new ByteRange(_position, length - 1),
                }, ct);
                _body = _response.ResponseStream;
            }
            var read = await _body.ReadAsync(buffer, ct);
            if (read == 0 && _position < length)
                throw new IOException($"the object store ended {key} at {_position:N0} of {length:N0} bytes");
            _position += read;
            return read;
        }
        catch (Exception ex) when (S3ErrorTranslator.Translate(ex, settings) is Core.Errors.LineageException translated && !ReferenceEquals(translated, ex))
        {
            Close(dropResponse: true);
            throw translated;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Close(bool dropResponse)
    {
        _body?.Dispose();
        _body = null;
        if (dropResponse)
        {
            _response?.Dispose();
            _response = null;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Close(dropResponse: true);
        base.Dispose(disposing);
    }
}
