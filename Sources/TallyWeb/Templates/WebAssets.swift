/// The pages' stylesheet and script, served from the binary. The script only improves the
/// pages (progress without reloading, the browser's time zone); every page works without it.
package enum WebAssets {
    /// An asset by name: its text and its content type; nil for a name that is not one.
    package static func asset(_ name: String) -> (body: String, contentType: String)? {
        switch name {
        case "app.css": (css, "text/css; charset=utf-8")
        case "app.js": (script, "text/javascript; charset=utf-8")
        default: nil
        }
    }

    static let css = """
        :root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; }
        body { margin: 0; }
        header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .5rem;
                 padding: .6rem 1rem; background: #24405f; color: #fff; }
        header a, header button { color: #fff; }
        nav a { margin-right: 1rem; }
        .brand { font-weight: bold; }
        header form.who { display: flex; gap: .5rem; align-items: center; margin: 0; }
        header button { background: transparent; border: 1px solid #fff; border-radius: 4px; padding: .2rem .6rem; cursor: pointer; }
        main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
        td form { margin: 0; }
        .stack { display: flex; flex-direction: column; gap: .4rem; max-width: 32rem; }
        fieldset { border: 1px solid #ccc; display: flex; flex-direction: column; gap: .3rem; }
        input, select, button { font: inherit; padding: .3rem; }
        .button, form.stack button { display: inline-block; background: #24405f; color: #fff; padding: .4rem .8rem; border-radius: 4px;
                  text-decoration: none; border: 0; }
        .error { color: #a00; margin: .1rem 0; }
        .stack button { align-self: flex-start; }
        .notice { background: #fff8e0; border: 1px solid #e0c060; border-radius: 6px; padding: .2rem 1rem 1rem; margin-bottom: 1rem; }
        output { font-family: ui-monospace, monospace; font-size: 1.1rem; word-break: break-all; }
        form.filters { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin-bottom: .6rem; }
        .note { color: #555; }
        .figures { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
        .figures li { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
        .figure { display: block; font-size: 1.4rem; font-weight: bold; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        dl.facts dd { margin: 0; }
        figure { margin: 1rem 0; max-width: 46rem; }
        svg { width: 100%; height: auto; }
        progress { width: 6rem; vertical-align: middle; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f0a500; outline-offset: 1px; }
        @media (max-width: 40rem) { main { padding: .5rem; } th, td { padding: .25rem; } }
        """

    static let script = """
        "use strict";
        (function () {
          // The browser's zone, for the pages' local times (a cookie the server reads).
          var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
          if (zone && document.cookie.indexOf("tally_tz=") < 0) {
            document.cookie = "tally_tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Strict";
            if (document.querySelector("[data-zone-from-cookie]")) { location.reload(); return; }
          }
          // The Generate form starts in the browser's zone.
          var select = document.getElementById("timezone");
          if (select && select.dataset.browserDefault === "true" && zone) {
            for (var i = 0; i < select.options.length; i++) {
              if (select.options[i].value === zone) { select.selectedIndex = i; break; }
            }
          }
          // Unfinished reports: poll the JSON API and move their progress; reload when one ends.
          var active = ["queued", "running", "merging"];
          var rows = Array.prototype.slice.call(document.querySelectorAll("[data-job]")).filter(function (row) {
            return active.indexOf(row.dataset.state) >= 0;
          });
          if (rows.length === 0) { return; }
          function poll() {
            Promise.all(rows.map(function (row) {
              return fetch("/v1/jobs/" + encodeURIComponent(row.dataset.job), { credentials: "same-origin" })
                .then(function (r) { return r.ok ? r.json() : null; })
                .then(function (job) {
                  if (!job) { return false; }
                  if (active.indexOf(job.state) < 0) { return true; }
                  var p = job.progress, bar = row.querySelector("progress"), eta = row.querySelector(".eta"), state = row.querySelector(".state");
                  if (state) { state.textContent = job.state; }
                  if (bar && p.bytes_total > 0) { bar.value = Math.floor(100 * p.bytes / p.bytes_total); }
                  if (eta) { eta.textContent = p.eta_seconds != null ? Math.ceil(p.eta_seconds) + " s left" : ""; }
                  return false;
                });
            })).then(function (ended) {
              if (ended.indexOf(true) >= 0) { location.reload(); } else { setTimeout(poll, 1000); }
            }, function () { setTimeout(poll, 3000); });
          }
          setTimeout(poll, 500);
        })();
        """
}
