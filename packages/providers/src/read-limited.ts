import type { Dispatcher } from 'undici';

/**
 * Reads a body fully, so the socket goes back to the pool; past `max` bytes it stops and drops the
 * socket. A body whose declared length (`content-length`) is within `max` is read in one go:
 * HTTP/1.1 framing ends it at that length (undici fails a body that runs longer or shorter), so
 * the bound holds without counting chunks, and without the async iteration's per-chunk promises.
 */
export async function readLimited(
  body: Dispatcher.ResponseData['body'],
  max: number,
  headers?: Dispatcher.ResponseData['headers'],
): Promise<string> {
  const declared = headers?.['content-length'];
  if (typeof declared === 'string' && /^\d+$/.test(declared) && Number(declared) <= max) {
    return body.text();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      chunks.push(chunk.subarray(0, chunk.length - (size - max)));
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
