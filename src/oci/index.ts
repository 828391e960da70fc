/** OCI image and runtime spec shapes, declared once for image/, build/, distribution/, container/ and runtime/. */
export type * from "./image.ts";
export type * from "./runtime.ts";
