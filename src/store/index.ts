export { RecordStore } from "./records.ts";
