import { describe, expect, it } from 'vitest';
import { SseStreamParser, type SseMessage } from '../src/sse-stream-parser.js';

function parse(chunks: string[]): SseMessage[] {
  const messages: SseMessage[] = [];
  const parser = new SseStreamParser((message) => messages.push(message));
  for (const chunk of chunks) parser.push(chunk);
  return messages;
}

describe('the text/event-stream parser of the SDK', () => {
  it('reads messages split anywhere across chunks, with any line ending, skipping comments', () => {
    const stream =
      ': ordercast stream\r\n\r\nid: 1\r\nevent: order.update\r\ndata: {"a":1}\r\n\r\n: heartbeat\n\nid: 2\revent: order.update\rdata: {"a":2}\r\r';
    const whole = parse([stream]);
    expect(whole).toEqual([
      { id: '1', event: 'order.update', data: '{"a":1}' },
      { id: '2', event: 'order.update', data: '{"a":2}' },
    ]);
    // Every split point, including between the CR and the LF of a CRLF.
    for (let i = 1; i < stream.length; i++) expect(parse([stream.slice(0, i), stream.slice(i)])).toEqual(whole);
    expect(parse([...stream])).toEqual(whole);
  });

  it('joins data lines, defaults the event to "message", and ignores messages without data', () => {
    expect(parse(['data: one\ndata:two\n\nevent: x\n\nid\ndata\n\n'])).toEqual([
      { event: 'message', data: 'one\ntwo' },
      { event: 'message', data: '', id: '' },
    ]);
  });
});
