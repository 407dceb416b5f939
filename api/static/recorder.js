// Sightline's recorder: records this page with rrweb and sends the events to Sightline's live ingest.
//
// Install (the README has it too):
//   <script src="https://SIGHTLINE/static/recorder.js" data-token="sli_…" data-project="1" defer></script>
//   <script>window.sightline = window.sightline || []; sightline.push(["identify", "user-42"]);</script>
//
// Events are batched (every `data-flush-ms`, default 5 s, or `data-batch-events`, default 50, events),
// gzipped when the browser has CompressionStream, and retried with exponential backoff on a network
// error, a 429 or a 5xx, keeping their batch id so a retried batch is stored once. When the page is
// hidden or left, what is pending goes out with navigator.sendBeacon (no headers: the token travels
// in the body). Console errors and uncaught exceptions are recorded as rrweb's console plugin does.
"use strict";

(function () {
  const script = document.currentScript;
  if (!script || window.__sightlineRecorder) return;
  const option = (name, fallback) => script.dataset[name] || fallback;
  const base = new URL(script.src, location.href).origin;
  const token = option("token", "");
  const project = option("project", "");
  if (!token || !project) {
    console.warn("Sightline recorder: data-token and data-project are required; not recording.");
    return;
  }
  const endpoint = `${base}/api/environments/${encodeURIComponent(project)}/recordings/ingest`;
  const flushMs = Number(option("flushMs", 5000));
  const batchEvents = Number(option("batchEvents", 50));
  const idleMs = 30 * 60 * 1000; // a new session after 30 minutes without activity
  const maxBeaconBytes = 60000; // browsers cap a beacon's body near 64 KB
  // The pinned file from the npm registry, served by Sightline; jsDelivr (same bytes) as a fallback.
  const recordJs = `${base}/static/vendor/rrweb-record.js`;
  const cdn = {
    src: "https://cdn.jsdelivr.net/npm/@rrweb/record@2.1.6/dist/record.umd.min.cjs",
    integrity: "sha384-UXg/O1bVryk2M3h7gqexGANyLz+zFnrl1KWPxii4mUPP42AwGp1LvfeGjURH/0F9",
  };

  const randomId = () =>
    crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const stored = (storage, key, make) => {
    try {
      const value = storage.getItem(key) || make();
      storage.setItem(key, value);
      return value;
    } catch (error) {
      return make(); // storage refused (private mode): this page only
    }
  };

  let distinctId = stored(localStorage, "sightline_distinct_id", randomId);
  const windowId = randomId();
  let pending = [];
  let sending = Promise.resolve();
  let timer = null;

  // One session per tab, continued across its pages until 30 minutes pass without activity.
  function sessionId() {
    const now = Date.now();
    let session = null;
    try {
      session = JSON.parse(sessionStorage.getItem("sightline_session") || "null");
    } catch (error) {
      session = null;
    }
    if (!session || now - session.seen > idleMs) session = { id: randomId(), seen: now };
    session.seen = now;
    try {
      sessionStorage.setItem("sightline_session", JSON.stringify(session));
    } catch (error) {
      /* this page only */
    }
    return session.id;
  }
  const session = sessionId();

  function batchOf(events) {
    sessionId(); // still active: keep the session going
    return { session_id: session, window_id: windowId, distinct_id: distinctId, batch_id: randomId(), events };
  }

  async function gzip(text) {
    if (typeof CompressionStream === "undefined") return null;
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  async function post(batch) {
    const text = JSON.stringify(batch);
    const zipped = await gzip(text).catch(() => null);
    const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
    if (zipped) headers["Content-Encoding"] = "gzip";
    for (let attempt = 0; attempt < 8; attempt += 1) {
      let wait = Math.min(30000, 1000 * 2 ** attempt);
      try {
        const response = await fetch(endpoint, { method: "POST", headers, body: zipped || text, keepalive: false });
        if (response.ok) return true;
        if (response.status !== 429 && response.status !== 408 && response.status < 500) {
          console.warn(`Sightline recorder: a batch was refused (${response.status}); it is dropped.`);
          return false;
        }
        const after = Number(response.headers.get("Retry-After"));
        if (after > 0) wait = after * 1000;
      } catch (error) {
        /* offline or the server is down: try again */
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return false;
  }

  function flush() {
    clearTimeout(timer);
    timer = null;
    if (!pending.length) return sending;
    const batch = batchOf(pending);
    pending = [];
    sending = sending.then(() => post(batch));
    return sending;
  }

  function beacon() {
    // The page is going away: no time for compression or retries, and no headers.
    while (pending.length) {
      let count = pending.length;
      let body = JSON.stringify({ ...batchOf(pending.slice(0, count)), token });
      while (body.length > maxBeaconBytes && count > 1) {
        count = Math.ceil(count / 2);
        body = JSON.stringify({ ...batchOf(pending.slice(0, count)), token });
      }
      const blob = new Blob([body], { type: "text/plain" });
      if (!navigator.sendBeacon || !navigator.sendBeacon(endpoint, blob)) {
        fetch(endpoint, { method: "POST", body: blob, keepalive: true }).catch(() => {});
      }
      pending = pending.slice(count);
    }
  }

  function emit(event) {
    pending.push(event);
    if (pending.length >= batchEvents) flush();
    else if (!timer) timer = setTimeout(flush, flushMs);
  }

  // Console errors and uncaught exceptions, in the event shape of rrweb's console plugin.
  const consolePlugin = {
    name: "rrweb/console@1",
    options: {},
    observer(callback) {
      const report = (payload, trace) => callback({ level: "error", trace: trace || [], payload });
      const original = console.error;
      console.error = function (...args) {
        report(args.map((arg) => (arg instanceof Error ? arg.stack || String(arg) : String(arg))));
        return original.apply(this, args);
      };
      const onError = (event) => report([String(event.message)], [`${event.filename}:${event.lineno}`]);
      const onRejection = (event) => report([`Uncaught (in promise) ${event.reason}`]);
      window.addEventListener("error", onError);
      window.addEventListener("unhandledrejection", onRejection);
      return () => {
        console.error = original;
        window.removeEventListener("error", onError);
        window.removeEventListener("unhandledrejection", onRejection);
      };
    },
  };

  function start() {
    const engine = window.rrwebRecord;
    const record = engine && (engine.record || (engine.default && engine.default.record));
    if (!record) {
      console.warn("Sightline recorder: rrweb's recorder did not load; not recording.");
      return;
    }
    record({ emit, plugins: [consolePlugin], maskAllInputs: true });
    window.__sightlineRecorder = { flush, pending: () => pending.length, session };
  }

  function load(src, integrity, next) {
    const tag = document.createElement("script");
    tag.src = src;
    if (integrity) {
      tag.integrity = integrity;
      tag.crossOrigin = "anonymous";
    }
    tag.onload = start;
    tag.onerror = next;
    document.head.appendChild(tag);
  }

  // Commands queued before the recorder loaded, then any pushed later: ["identify", id].
  const queue = Array.isArray(window.sightline) ? window.sightline : [];
  const run = (command) => {
    if (command && command[0] === "identify" && command[1]) {
      distinctId = String(command[1]);
      try {
        localStorage.setItem("sightline_distinct_id", distinctId);
      } catch (error) {
        /* this page only */
      }
    }
  };
  queue.forEach(run);
  window.sightline = { push: run };

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") beacon();
  });
  window.addEventListener("pagehide", beacon);
  if (window.rrwebRecord) start();
  else load(recordJs, null, () => load(cdn.src, cdn.integrity, () => console.warn("Sightline recorder: rrweb did not load.")));
})();
