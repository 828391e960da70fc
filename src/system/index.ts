export { EventBus, type EventInput, type EventSink, type WireEvent } from "./events.ts";
