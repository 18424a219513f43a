/// The dashboard served at `/` of the admin listener: one page, no external assets, what an operator
/// watches an edge with. It polls `/stats` and `/stats/connections` every second and shows the
/// gateway's headline rates; per route, live counters and two minutes of charts (connections,
/// messages/s, bytes/s, HTTP requests/s, backpressure pauses/s, errors/s), HTTP answers by status
/// class, closes by side and code, and (routes with `auth`) clients admitted and refused by reason;
/// every upstream endpoint with its health, sessions, connections and pool state (HTTP/2 streams
/// or HTTP keep-alive connections); and the live connections holding the most queued bytes and the
/// oldest ones.
///
/// Every rate, in the headline figures as in the charts, is computed from the same samples: the
/// counters read at each poll, differenced over the time the gateway says passed between them
/// (`uptime_seconds`). A chart point is the rate between two polls; a headline rate is the rate over
/// the whole window the chart shows (up to two minutes), so it never reads 0 beside a chart with
/// traffic in it (the headline used to be the last one-second point alone: 0 at the first poll and
/// after any quiet second of bursty traffic).
///
/// With `admin.token`, open it as `/#token=<token>`: the fragment stays in the browser, and the page
/// sends it as a bearer token with its requests.
enum DashboardPage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>wsgate</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
          body { font: 14px system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
          header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; flex-wrap: wrap; gap: 24px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header .meta { opacity: .8; }
          header .meta b { font-weight: 600; font-variant-numeric: tabular-nums; }
          #status.error { color: #ff8a80; }
          main { padding: 16px 20px; display: grid; gap: 16px; }
          section.panel, .route { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.1); }
          h2 { font-size: 16px; margin: 0 0 8px; }
          h2 small { font-weight: normal; color: #667; }
          h3 { font-size: 13px; margin: 8px 0 4px; color: #445; }
          .figures { display: flex; flex-wrap: wrap; gap: 18px; margin-bottom: 8px; }
          .figure .label { color: #667; font-size: 12px; display: block; }
          .figure .value { font-size: 20px; font-variant-numeric: tabular-nums; }
          .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
          .chart { border: 1px solid #e3e5ea; border-radius: 6px; padding: 6px; }
          .chart .title { font-size: 12px; color: #667; }
          canvas { width: 100%; height: 90px; display: block; }
          .breakdowns { display: flex; flex-wrap: wrap; gap: 24px; margin-top: 8px; }
          table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
          th, td { text-align: left; padding: 2px 10px 2px 0; font-size: 13px; white-space: nowrap; }
          th { color: #667; font-weight: normal; border-bottom: 1px solid #e3e5ea; }
          td.num, th.num { text-align: right; }
          .healthy { color: #1b7f3b; }
          .unhealthy { color: #c62828; font-weight: 600; }
          .retrying { color: #b26a00; }
          .paused { color: #c62828; }
          .empty { color: #889; font-size: 13px; }
          .tables { display: grid; gap: 8px; overflow-x: auto; }
        </style>
        </head>
        <body>
        <header>
          <h1>wsgate</h1>
          <span class="meta">uptime <span id="uptime">-</span></span>
          <span class="meta">config v<span id="config-version">-</span></span>
          <span class="meta">connections <b id="total-active">-</b></span>
          <span class="meta">messages/s <b id="total-messages-rate">-</b></span>
          <span class="meta">bytes/s <b id="total-bytes-rate">-</b></span>
          <span class="meta">HTTP requests/s <b id="total-requests-rate">-</b></span>
          <span class="meta">queued <b id="queued-bytes">-</b></span>
          <span class="meta">client connections <b id="client-protocols">-</b></span>
          <span class="meta" id="status">connecting...</span>
        </header>
        <main>
          <div id="routes" style="display: grid; gap: 16px"></div>
          <section class="panel" id="upstreams-panel">
            <h2>Upstream endpoints</h2>
            <div id="upstreams"><span class="empty">-</span></div>
          </section>
          <section class="panel" id="connections-panel">
            <h2>Live connections <small id="connections-count"></small></h2>
            <div class="tables">
              <div><h3>most queued bytes</h3><div id="top-buffered"><span class="empty">-</span></div></div>
              <div><h3>oldest</h3><div id="top-age"><span class="empty">-</span></div></div>
            </div>
          </section>
        </main>
        <script>
        "use strict";
        const HISTORY = 120;       // samples kept: two minutes at one poll a second
        const TOP = 10;            // rows of each live-connection table
        const token = new URLSearchParams(location.hash.slice(1)).get("token");
        const headers = token ? { Authorization: "Bearer " + token } : {};
        // Per route (and "" for the totals): the counters read at each poll, with the gateway's time.
        const samples = {};

        const sum = (directions) => directions ? directions.client_to_upstream + directions.upstream_to_client : 0;
        const requests = (r) => r.http ? Object.values(httpClasses(r)).reduce((a, b) => a + b, 0) : 0;
        const charts = [
          ["connections", "connections", (r) => r.connections.active, false],
          ["messages", "messages/s", (r) => sum(r.messages), true],
          ["bytes", "bytes/s", (r) => sum(r.bytes) + (r.http ? sum(r.http.body_bytes) : 0), true],
          ["requests", "HTTP requests/s", requests, true],
          ["backpressure", "backpressure pauses/s", (r) => sum(r.backpressure.pauses), true],
          ["errors", "errors/s", errors, true],
        ];

        // A route's proxied HTTP requests by status class ("2xx", ...; "0xx": no answer), from route.http.
        function httpClasses(r) {
          return (r.http && r.http.requests) || {};
        }

        function errors(r) {
          let n = 0;
          for (const v of Object.values(r.handshake_failures)) n += v;
          for (const v of Object.values(r.limit_hits)) n += v;
          for (const side of Object.values(r.closes))
            for (const [code, v] of Object.entries(side)) if (code !== "1000" && code !== "1001") n += v;
          const classes = httpClasses(r);
          n += (classes["5xx"] || 0);
          return n;
        }

        function format(n) {
          if (n === null) return "-";
          if (n >= 1e9) return (n / 1e9).toFixed(1) + "G";
          if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
          if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
          return Number.isInteger(n) ? String(n) : n.toFixed(1);
        }

        function element(tag, attributes, children) {
          const node = document.createElement(tag);
          for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
          for (const child of children || []) node.append(child);
          return node;
        }

        function table(columns, rows, attributes) {
          if (rows.length === 0) return element("span", { class: "empty" }, ["none"]);
          return element("table", attributes || {}, [
            element("tr", {}, columns.map(([title, , numeric]) => element("th", numeric ? { class: "num" } : {}, [title]))),
            ...rows.map((row) => element("tr", row.attributes || {}, columns.map(([, value, numeric]) => {
              const cell = value(row);
              return element("td", numeric ? { class: "num" } : {}, [cell instanceof Node ? cell : String(cell)]);
            }))),
          ]);
        }

        function card(name, route) {
          let node = document.getElementById("route-" + name);
          if (node) return node;
          const figure = (field, label) => element("span", { class: "figure" }, [
            element("span", { class: "label" }, [label]),
            element("span", { class: "value", "data-route": name, "data-field": field }, ["-"]),
          ]);
          node = element("section", { class: "route", id: "route-" + name }, [
            element("h2", {}, [name + " ", element("small", {}, ["→ " + (route.upstream || "")])]),
            element("div", { class: "figures" }, [
              figure("active", "connections"), figure("total", "total"), figure("messages_rate", "messages/s (chart window)"),
              figure("bytes_rate", "bytes/s (chart window)"), figure("requests_rate", "HTTP requests/s (chart window)"),
              figure("pauses", "backpressure pauses"), figure("errors", "errors"),
            ]),
            element("div", { class: "charts" }, charts.map(([key, title]) => element("div", { class: "chart" }, [
              element("div", { class: "title" }, [title]),
              element("canvas", { "data-route": name, "data-chart": key, width: 300, height: 90 }),
            ]))),
            element("div", { class: "breakdowns" }, [
              element("div", {}, [element("h3", {}, ["HTTP answers by status class"]),
                element("div", { "data-route": name, "data-breakdown": "http" }, [])]),
              element("div", {}, [element("h3", {}, ["closes by side and code"]),
                element("div", { "data-route": name, "data-breakdown": "closes" }, [])]),
              element("div", {}, [element("h3", {}, ["authentication"]),
                element("div", { "data-route": name, "data-breakdown": "auth" }, [])]),
            ]),
          ]);
          document.getElementById("routes").append(node);
          return node;
        }

        function set(name, field, value) {
          const node = document.querySelector(`[data-route="${CSS.escape(name)}"][data-field="${field}"]`);
          if (node) node.textContent = format(value);
        }

        function draw(canvas, values) {
          const ctx = canvas.getContext("2d");
          const w = canvas.width, h = canvas.height;
          ctx.clearRect(0, 0, w, h);
          const max = Math.max(1, ...values);
          ctx.fillStyle = "#889";
          ctx.font = "10px sans-serif";
          ctx.fillText(format(max), 2, 10);
          ctx.strokeStyle = "#2f6fde";
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          const step = w / Math.max(1, HISTORY - 1);
          const offset = HISTORY - values.length;
          values.forEach((v, i) => {
            const x = (offset + i) * step;
            const y = h - 2 - (v / max) * (h - 14);
            if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
          });
          ctx.stroke();
        }

        // Keeps this poll's counters of `key` (a route name, "" for the totals).
        function record(key, time, route) {
          const list = samples[key] || (samples[key] = []);
          list.push({ time, values: Object.fromEntries(charts.map(([name, , value]) => [name, value(route)])) });
          if (list.length > HISTORY + 1) list.shift();
          return list;
        }

        // A chart's points: gauges as read, counters as the rate between consecutive samples.
        function points(list, name, isRate) {
          if (!isRate) return list.map((s) => s.values[name]);
          const out = [];
          for (let i = 1; i < list.length; i++) out.push(rate(list[i - 1], list[i], name));
          return out;
        }

        function rate(from, to, name) {
          const elapsed = to.time - from.time;
          return elapsed > 0 ? Math.max(0, (to.values[name] - from.values[name]) / elapsed) : 0;
        }

        // A headline rate: over the chart's whole window (null until there are two samples).
        function headline(list, name) {
          return list.length < 2 ? null : rate(list[0], list[list.length - 1], name);
        }

        function breakdowns(name, route) {
          const classes = Object.entries(httpClasses(route)).sort();
          const latency = route.http && route.http.upstream_latency_seconds;
          document.querySelector(`[data-route="${CSS.escape(name)}"][data-breakdown="http"]`).replaceChildren(
            route.http ? table([["class", (r) => r[0]], ["answers", (r) => format(r[1]), true]],
              classes.map((entry) => Object.assign(entry, { attributes: { "data-status-class": entry[0] } })))
              : element("span", { class: "empty" }, ["no HTTP figures"]),
            latency && latency.count > 0
              ? element("div", { class: "empty" }, [`upstream latency: mean ${(latency.sum / latency.count * 1000).toFixed(2)} ms`])
              : "");
          const closes = [];
          for (const [side, codes] of Object.entries(route.closes))
            for (const [code, count] of Object.entries(codes)) closes.push({ side, code, count, attributes: { "data-close": side + "-" + code } });
          closes.sort((a, b) => b.count - a.count);
          document.querySelector(`[data-route="${CSS.escape(name)}"][data-breakdown="closes"]`).replaceChildren(
            table([["side", (r) => r.side], ["code", (r) => r.code], ["sessions", (r) => format(r.count), true]], closes));
          // Admitted, then refusals by reason, most first (routes with `auth`).
          const auth = route.auth
            ? [{ outcome: "admitted", count: route.auth.admitted, attributes: { "data-auth": "admitted" } }].concat(
              Object.entries(route.auth.refused).sort((a, b) => b[1] - a[1])
                .map(([reason, count]) => ({ outcome: "refused: " + reason, count, attributes: { "data-auth": reason } })))
            : null;
          document.querySelector(`[data-route="${CSS.escape(name)}"][data-breakdown="auth"]`).replaceChildren(
            auth ? table([["outcome", (r) => r.outcome], ["clients", (r) => format(r.count), true]], auth)
              : element("span", { class: "empty" }, ["no auth on this route"]));
        }

        function upstreams(stats) {
          const rows = [];
          for (const [name, upstream] of Object.entries(stats.upstreams).sort()) {
            const pools = Object.fromEntries((upstream.pool || []).map((p) => [p.endpoint, p]));
            for (const endpoint of upstream.endpoints || []) {
              const pool = pools[endpoint.endpoint];
              const n = endpoint.failures_in_a_row;
              const failures = `${n} connect failure${n === 1 ? "" : "s"} in a row`;
              const state = !endpoint.healthy
                ? element("span", { class: "unhealthy" }, [`back-off (${failures}; ${endpoint.healthy_loops}/${endpoint.loops} loops healthy)`])
                : endpoint.failures_in_a_row > 0
                  ? element("span", { class: "retrying" }, [`retrying after back-off (${failures})`])
                  : element("span", { class: "healthy" }, ["healthy"]);
              rows.push({ name, protocol: upstream.protocol, endpoint, pool, state,
                attributes: { "data-upstream": name, "data-endpoint": endpoint.endpoint, "data-healthy": String(endpoint.healthy) } });
            }
          }
          document.getElementById("upstreams").replaceChildren(table([
            ["upstream", (r) => r.name], ["protocol", (r) => r.protocol], ["endpoint", (r) => r.endpoint.endpoint],
            ["health", (r) => r.state], ["sessions", (r) => r.endpoint.sessions, true],
            ["connections", (r) => r.endpoint.connections, true],
            ["pool", (r) => r.pool ? `${r.pool.streams_active} streams on ${r.pool.connections_open} conns, ${r.pool.streams_refused} refused, ${r.pool.goaways} GOAWAY`
              : r.endpoint.http_pool ? `HTTP keep-alive: ${r.endpoint.http_pool.open} open, ${r.endpoint.http_pool.idle} idle, ${r.endpoint.http_pool.reused} reused, ${r.endpoint.http_pool.stale_retries} stale retries`
              : "-"],
          ], rows, { id: "upstream-table" }));
        }

        function connectionsTable(id, list) {
          document.getElementById(id).replaceChildren(table([
            ["id", (c) => c.id, true], ["route", (c) => c.route], ["client", (c) => c.client_address || "-"],
            ["upstream", (c) => c.upstream_endpoint], ["path", (c) => c.path], ["over", (c) => c.client_protocol],
            ["age s", (c) => c.age_seconds.toFixed(1), true],
            ["queued → client", (c) => format(c.buffered_bytes.toward_client), true],
            ["queued → upstream", (c) => format(c.buffered_bytes.toward_upstream), true],
            ["messages", (c) => format(sum(c.messages)), true],
            ["paused", (c) => {
              const held = [c.paused.toward_client && "client", c.paused.toward_upstream && "upstream"].filter(Boolean);
              return held.length ? element("span", { class: "paused" }, [held.join(", ")]) : "-";
            }],
          ], list.map((c) => Object.assign(c, { attributes: { "data-connection": String(c.id) } })), { "data-table": id }));
        }

        function update(stats) {
          const now = stats.uptime_seconds;
          document.getElementById("uptime").textContent = Math.floor(now) + "s";
          document.getElementById("config-version").textContent = stats.config.version;
          document.getElementById("total-active").textContent = stats.totals.connections.active;
          document.getElementById("queued-bytes").textContent = format(stats.memory.queued_bytes) + "B";
          const protocols = stats.client_protocols;
          document.getElementById("client-protocols").textContent =
            `HTTP/1.1 ${protocols["http/1.1"].connections.open}, h2 ${protocols.h2.connections.open}` +
            ` (${protocols.h2.streams.open} streams, ${protocols.h2.websocket_streams} WebSockets so far)`;
          const totals = record("", now, stats.totals);
          document.getElementById("total-messages-rate").textContent = format(headline(totals, "messages"));
          document.getElementById("total-bytes-rate").textContent = format(headline(totals, "bytes"));
          document.getElementById("total-requests-rate").textContent = format(headline(totals, "requests"));
          for (const [name, route] of Object.entries(stats.routes)) {
            card(name, route);
            const list = record(name, now, route);
            for (const [key, , , isRate] of charts)
              draw(document.querySelector(`canvas[data-route="${CSS.escape(name)}"][data-chart="${key}"]`), points(list, key, isRate));
            set(name, "active", route.connections.active);
            set(name, "total", route.connections.total);
            set(name, "messages_rate", headline(list, "messages"));
            set(name, "bytes_rate", headline(list, "bytes"));
            set(name, "requests_rate", headline(list, "requests"));
            set(name, "pauses", sum(route.backpressure.pauses));
            set(name, "errors", errors(route));
            breakdowns(name, route);
          }
          upstreams(stats);
        }

        async function get(path) {
          const response = await fetch(path, { headers, cache: "no-store" });
          if (!response.ok) throw new Error(path + ": HTTP " + response.status);
          return response.json();
        }

        async function poll() {
          const status = document.getElementById("status");
          try {
            const [stats, buffered, oldest] = await Promise.all([
              get("stats"), get(`stats/connections?sort=buffered&limit=${TOP}`), get(`stats/connections?sort=age&limit=${TOP}`),
            ]);
            update(stats);
            document.getElementById("connections-count").textContent = `(${buffered.count})`;
            connectionsTable("top-buffered", buffered.connections);
            connectionsTable("top-age", oldest.connections);
            status.textContent = "live";
            status.className = "";
          } catch (error) {
            status.textContent = "error: " + error.message;
            status.className = "error";
          }
          setTimeout(poll, 1000);
        }
        poll();
        </script>
        </body>
        </html>
        """#
}
