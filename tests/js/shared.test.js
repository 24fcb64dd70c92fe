import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { niceStep, parseNumber } from "../../js/fields.js";
import { elapsedInfo, formatBytes, formatElapsed, queueText, safeUrl, statusInfo } from "../../js/shared.js";

describe("safeUrl (the one gate for src/href)", () => {
  const allowed = [
    "https://cdn.runcomfy.net/out/a.png",
    "http://127.0.0.1:8765/files/abc.mp4",
    "HTTPS://EXAMPLE.COM/x",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:image/svg+xml;base64,PHN2Zz4=",
    "data:video/mp4;base64,AAAA",
    "DATA:IMAGE/JPEG;base64,/9j/",
  ];
  const refused = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "file:///etc/passwd",
    "blob:https://example.com/123",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD4=",
    "data:application/pdf;base64,AAAA",
    "data:image/png",
    "vbscript:msgbox",
    "ftp://example.com/a.png",
    "/files/a.png",
    "a.png",
    "RunComfy_examples_1235_1.png",
    "//evil.example/a.png",
    "",
    null,
    undefined,
    42,
    { toString: () => "https://x" },
  ];
  for (const u of allowed) test(`allows ${u}`, () => assert.equal(safeUrl(u), u.trim()));
  for (const u of refused) test(`refuses ${JSON.stringify(u)}`, () => assert.equal(safeUrl(u), null));
});

test("statusInfo: known statuses get their own class, unknown a neutral one with the raw text", () => {
  assert.deepEqual(statusInfo("in_queue"), { label: "in queue", cls: "rcnb-status-in_queue", known: true });
  assert.deepEqual(statusInfo("weird state"), { label: "weird state", cls: "rcnb-status-other", known: false });
  assert.equal(statusInfo(undefined).label, "unknown");
  assert.equal(statusInfo("__proto__").cls, "rcnb-status-other");
  assert.equal(statusInfo("toString").cls, "rcnb-status-other");
});

test("queueText: queue_position counts jobs ahead; shown 1-based", () => {
  assert.equal(queueText(0), "next in line");
  assert.equal(queueText(1), "position 2");
  assert.equal(queueText(3), "position 4");
  assert.equal(queueText(null), "");
  assert.equal(queueText(-1), "");
});

test("formatElapsed / formatBytes", () => {
  assert.equal(formatElapsed(0), "0.0 s");
  assert.equal(formatElapsed(4210), "4.2 s");
  assert.equal(formatElapsed(65_000), "1m 05s");
  assert.equal(formatElapsed(3_723_000), "1h 02m");
  assert.equal(formatElapsed(-5), "0.0 s");
  assert.equal(formatBytes(812), "812 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(3 * 1024 * 1024), "3.0 MB");
});

test("elapsedInfo: ticks from submitted_at, freezes at finished_at", () => {
  const t0 = 1_700_000_000_000;
  assert.deepEqual(elapsedInfo({ status: "in_queue", submitted_at: t0 }, t0 + 2500), { text: "2.5 s", title: "", ticking: true });
  const done = { status: "completed", submitted_at: t0, started_at: t0 + 1000, finished_at: t0 + 6000 };
  assert.equal(elapsedInfo(done, t0 + 99_000).text, "6.0 s");
  assert.equal(elapsedInfo(done, t0 + 99_000).ticking, false);
  assert.equal(elapsedInfo(done, 0).title, "queued 1.0 s · running 5.0 s");
  assert.equal(elapsedInfo({ status: "submitting", submitted_at: null }, t0).text, "");
  assert.equal(elapsedInfo({ status: "failed", submitted_at: t0, finished_at: null }, t0 + 5).ticking, false);
});

test("niceStep and parseNumber", () => {
  assert.equal(niceStep(0, 1), 0.01);
  assert.equal(niceStep(0.6, 2), 0.01);
  assert.equal(niceStep(1, 15), 0.1);
  assert.equal(niceStep(0, 1000), 10);
  assert.deepEqual(parseNumber("", true), { value: null, error: null });
  assert.deepEqual(parseNumber("12", true), { value: 12, error: null });
  assert.equal(parseNumber("3.5", true).error, "must be a whole number");
  assert.deepEqual(parseNumber("0.25", false), { value: 0.25, error: null });
  assert.equal(parseNumber("abc", false).error, "not a number");
});
