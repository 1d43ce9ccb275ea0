import { LateEventMessage, MAX_LATE_REPORT_BYTES, serializeLateReport } from './messages';

const report = (event: unknown): LateEventMessage => ({
  schemaVersion: 1, reason: 'TOO_LATE', definition: 'account-1m', windowStart: 0, windowEnd: 60_000, watermark: 61_000,
  eventId: 'e-1', eventTime: 1_000, source: { topic: 'events.enriched', partition: 2, offset: '41' }, event,
});

describe('serializeLateReport', () => {
  it('publishes the report with its event when it fits', () => {
    const message = report({ eventId: 'e-1', note: 'é'.repeat(1000) });
    expect(JSON.parse(serializeLateReport(message))).toEqual(message);
  });

  it('drops the event, keeping where it came from, when the report would exceed MAX_LATE_REPORT_BYTES in UTF-8', () => {
    // Re-serialising expands numbers (1e20 → 100000000000000000000): a record under the decode limit can
    // become a report over the topic's limit.
    const expanded = report({ numbers: Array.from({ length: 30_000 }, () => 1e20) });
    expect(JSON.stringify(expanded).length).toBeGreaterThan(MAX_LATE_REPORT_BYTES);
    expect(JSON.parse(serializeLateReport(expanded))).toEqual({ ...expanded, event: null });
    // Counted in bytes, not characters: 3-byte characters pass the limit at a third of the length.
    const wide = report({ note: '€'.repeat(Math.ceil(MAX_LATE_REPORT_BYTES / 3)) });
    expect(JSON.stringify(wide).length).toBeLessThan(MAX_LATE_REPORT_BYTES);
    expect(JSON.parse(serializeLateReport(wide)).event).toBeNull();
  });
});
