import { PassThrough, type Readable } from "node:stream";

/**
 * Two readers of one stream (a blob store and a layer unpacker fed by one read): each gets every chunk, at
 * the pace of the slower, and an error of the source destroys both.
 */
export function tee(src: Readable): [PassThrough, PassThrough] {
  const a = new PassThrough();
  const b = new PassThrough();
  src.once("error", (e) => {
    a.destroy(e);
    b.destroy(e);
  });
  src.pipe(a);
  src.pipe(b);
  return [a, b];
}
