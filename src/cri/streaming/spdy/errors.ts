/** Errors of the SPDY layer: each says whether it ends the connection or only one stream. */

/** The peer broke the protocol in a way that ends the connection (GOAWAY with PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  override name = "SpdyProtocolError";
}

/** The peer broke the protocol on one stream only (RST_STREAM with `status`). */
export class SpdyStreamError extends Error {
  override name = "SpdyStreamError";
  readonly streamId: number;
  readonly status: number;
  constructor(message: string, streamId: number, status: number) {
    super(message);
    this.streamId = streamId;
    this.status = status;
  }
}
