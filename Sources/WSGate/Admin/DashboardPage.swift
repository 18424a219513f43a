/// The dashboard served at `/` of the admin listener: one page, no external assets. It polls
/// `/stats` every second and shows, per route, live counters and charts of connections,
/// messages/s, bytes/s, backpressure pauses/s and errors/s (refused handshakes, limit hits and
/// closes other than 1000/1001), over the last two minutes.
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
          header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header .meta { opacity: .8; }
          #status.error { color: #ff8a80; }
          main { padding: 16px 20px; display: grid; gap: 16px; }
          .route { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.1); }
          .route h2 { font-size: 16px; margin: 0 0 8px; }
          .route h2 small { font-weight: normal; color: #667; }
          .figures { display: flex; flex-wrap: wrap; gap: 18px; margin-bottom: 8px; }
          .figure .label { color: #667; font-size: 12px; display: block; }
          .figure .value { font-size: 20px; font-variant-numeric: tabular-nums; }
          .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
          .chart { border: 1px solid #e3e5ea; border-radius: 6px; padding: 6px; }
          .chart .title { font-size: 12px; color: #667; }
          canvas { width: 100%; height: 90px; display: block; }
        </style>
        </head>
        <body>
        <header>
          <h1>wsgate</h1>
          <span class="meta">uptime <span id="uptime">-</span></span>
          <span class="meta">config v<span id="config-version">-</span></span>
          <span class="meta">connections <span id="total-active">-</span></span>
          <span class="meta" id="status">connecting...</span>
        </header>
        <main id="routes"></main>
        <script>
        "use strict";
        const HISTORY = 120;
        const token = new URLSearchParams(location.hash.slice(1)).get("token");
        const series = {};
        let previous = null;

        const charts = [
          ["connections", "connections", (r) => r.connections.active, false],
          ["messages", "messages/s", (r) => r.messages.client_to_upstream + r.messages.upstream_to_client, true],
          ["bytes", "bytes/s", (r) => r.bytes.client_to_upstream + r.bytes.upstream_to_client, true],
          ["backpressure", "backpressure pauses/s", (r) => r.backpressure.pauses.client_to_upstream + r.backpressure.pauses.upstream_to_client, true],
          ["errors", "errors/s", errors, true],
        ];

        function errors(r) {
          let n = 0;
          for (const v of Object.values(r.handshake_failures)) n += v;
          for (const v of Object.values(r.limit_hits)) n += v;
          for (const side of Object.values(r.closes))
            for (const [code, v] of Object.entries(side)) if (code !== "1000" && code !== "1001") n += v;
          return n;
        }

        function format(n) {
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
              figure("active", "connections"), figure("total", "total"), figure("messages_rate", "messages/s"),
              figure("bytes_rate", "bytes/s"), figure("pauses", "backpressure pauses"), figure("errors", "errors"),
            ]),
            element("div", { class: "charts" }, charts.map(([key, title]) => element("div", { class: "chart" }, [
              element("div", { class: "title" }, [title]),
              element("canvas", { "data-route": name, "data-chart": key, width: 300, height: 90 }),
            ]))),
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
          const step = w / Math.max(1, values.length - 1);
          values.forEach((v, i) => {
            const x = i * step;
            const y = h - 2 - (v / max) * (h - 14);
            if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
          });
          ctx.stroke();
        }

        function update(stats) {
          const now = stats.uptime_seconds;
          document.getElementById("uptime").textContent = Math.floor(now) + "s";
          document.getElementById("config-version").textContent = stats.config.version;
          document.getElementById("total-active").textContent = stats.totals.connections.active;
          for (const [name, route] of Object.entries(stats.routes)) {
            card(name, route);
            const s = series[name] || (series[name] = Object.fromEntries(charts.map(([key]) => [key, []])));
            const before = previous && previous.stats.routes[name];
            const elapsed = previous ? Math.max(0.001, now - previous.time) : 1;
            for (const [key, , value, isRate] of charts) {
              let v = value(route);
              if (isRate) v = before ? Math.max(0, (v - value(before)) / elapsed) : 0;
              s[key].push(v);
              if (s[key].length > HISTORY) s[key].shift();
              draw(document.querySelector(`canvas[data-route="${CSS.escape(name)}"][data-chart="${key}"]`), s[key]);
            }
            set(name, "active", route.connections.active);
            set(name, "total", route.connections.total);
            set(name, "messages_rate", s.messages[s.messages.length - 1]);
            set(name, "bytes_rate", s.bytes[s.bytes.length - 1]);
            set(name, "pauses", route.backpressure.pauses.client_to_upstream + route.backpressure.pauses.upstream_to_client);
            set(name, "errors", errors(route));
          }
          previous = { stats, time: now };
        }

        async function poll() {
          const status = document.getElementById("status");
          try {
            const response = await fetch("stats", { headers: token ? { Authorization: "Bearer " + token } : {}, cache: "no-store" });
            if (!response.ok) throw new Error("HTTP " + response.status);
            update(await response.json());
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
