/** The peer broke the SPDY protocol in a way that ends the connection (GOAWAY with PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  override name = "SpdyProtocolError";
}
