import { createEventFactory, type EventFactory, type EventFactoryOptions } from '@qbo/events';
import { currentTraceparent } from './tracing.js';

/**
 * The contract's event factory, with the active trace recorded in each event unless the caller gave one, so
 * the trace survives an outbox (where the message is sent later, from another context).
 */
export function createTracedEventFactory(options: EventFactoryOptions): EventFactory {
  const make = createEventFactory(options);
  return (def, input) => {
    const traceparent = input.traceparent ?? currentTraceparent();
    return make(def, traceparent === undefined ? input : { ...input, traceparent });
  };
}
