import Mustache

/// The pages' templates (swift-mustache: `{{x}}` escapes HTML, `{{{x}}}` is only ever used for
/// the page inside the layout and for charts drawn by `SVGChart`). Kept in the binary, so a
/// coordinator deployed as one file serves its pages.
package enum WebTemplates {
    /// Every template, registered by name; a page renders into `layout`'s `content`.
    package static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("sign-in", signIn), ("reports", reports), ("generate", generate), ("report", report), ("error", error),
            ("tokens", tokens),
            ("activity", activity), ("schedules", schedules),
        ] {
            // The templates are constants of this file: one that does not parse is a bug the tests catch.
            try! library.register(text, named: name)
        }
        return library
    }()

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · tally</title>
        <link rel="stylesheet" href="/assets/app.css">
        <script src="/assets/app.js" defer></script>
        </head>
        <body>
        <header>
        <nav aria-label="Main">
        <a href="/" class="brand">tally</a>
        {{#signedIn}}<a href="/">Reports</a> <a href="/reports/new">Generate</a>{{/signedIn}}
        {{#isAdmin}}<a href="/admin/tokens">Tokens</a> <a href="/admin/activity">Activity</a> <a href="/admin/schedules">Schedules</a>{{/isAdmin}}
        </nav>
        {{#signedIn}}
        <form method="post" action="/sign-out" class="who">
        <span id="who">{{user}} ({{role}})</span>
        <input type="hidden" name="form_token" value="{{formToken}}">
        <button type="submit" id="sign-out">Sign out</button>
        </form>
        {{/signedIn}}
        </header>
        <main id="main">
        {{{content}}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        <h1>Sign in</h1>
        {{#error}}<p class="error" role="alert" id="sign-in-error">{{error}}</p>{{/error}}
        <form method="post" action="/sign-in" class="stack">
        <input type="hidden" name="form_token" value="{{formToken}}">
        <label for="secret">Secret of an admin or reporter token</label>
        <input id="secret" name="secret" type="password" autocomplete="current-password" required>
        <button type="submit" id="sign-in">Sign in</button>
        </form>
        """

    static let reports = """
        <h1>Reports</h1>
        <p><a class="button" href="/reports/new" id="generate-link">Generate a report</a></p>
        <p class="note">Times in {{zone}}.</p>
        {{^hasJobs}}<p id="no-reports">No reports yet.</p>{{/hasJobs}}
        {{#hasJobs}}
        <div class="table-wrap">
        <table id="reports">
        <thead><tr><th scope="col">Report</th><th scope="col">Source</th><th scope="col">Window</th><th scope="col">Asked by</th>
        <th scope="col">Status</th><th scope="col">Rows</th><th scope="col">Size</th><th scope="col">Download</th><th scope="col">File expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
        {{#jobs}}
        <tr data-job="{{id}}" data-state="{{state}}">
        <td><a href="/reports/{{id}}" class="report-link">{{report}}</a></td>
        <td>{{source}}</td>
        <td>{{windowFrom}} – {{windowTo}}</td>
        <td>{{owner}}</td>
        <td><span class="state">{{state}}</span>{{#active}} <progress max="100" value="{{percent}}">{{percent}} %</progress> <span class="eta">{{eta}}</span>{{/active}}{{#error}} <span class="error">{{error}}</span>{{/error}}</td>
        <td class="rows">{{rows}}</td>
        <td>{{size}}</td>
        <td>{{#downloadable}}<a href="/reports/{{id}}/download" class="download-csv">CSV</a> · <a href="/reports/{{id}}/download?gzip=1" class="download-gzip">gzip</a>{{/downloadable}}</td>
        <td>{{expires}}</td>
        <td>{{#cancellable}}<form method="post" action="/reports/{{id}}/cancel"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Cancel</button></form>{{/cancellable}}</td>
        </tr>
        {{/jobs}}
        </tbody>
        </table>
        </div>
        {{/hasJobs}}
        {{#next}}<p><a href="/?before={{next}}" id="older">Older reports</a></p>{{/next}}
        """

    static let generate = """
        <h1>Generate a report</h1>
        {{#generalError}}<p class="error" role="alert" id="general-error">{{generalError}}</p>{{/generalError}}
        <form method="post" action="/reports" class="stack" id="generate">
        <input type="hidden" name="form_token" value="{{formToken}}">
        <fieldset>
        <legend>Report</legend>
        {{#kinds}}<label><input type="radio" name="report" value="{{value}}" id="report-{{id}}" {{#checked}}checked{{/checked}}> {{name}}</label>{{/kinds}}
        {{#reportError}}<p class="error" id="report-error">{{reportError}}</p>{{/reportError}}
        </fieldset>
        <label for="source">Source</label>
        <select id="source" name="source">{{#sources}}<option value="{{name}}" {{#selected}}selected{{/selected}}>{{name}}</option>{{/sources}}</select>
        {{#sourceError}}<p class="error" id="source-error">{{sourceError}}</p>{{/sourceError}}
        <fieldset>
        <legend>Range (every report but inactive users)</legend>
        <label for="from">First day</label>
        <input type="date" id="from" name="from" value="{{from}}">
        {{#fromError}}<p class="error" id="from-error">{{fromError}}</p>{{/fromError}}
        <label for="to">Last day (included)</label>
        <input type="date" id="to" name="to" value="{{to}}">
        {{#toError}}<p class="error" id="to-error">{{toError}}</p>{{/toError}}
        </fieldset>
        <label for="timezone">Time zone</label>
        <select id="timezone" name="timezone" data-browser-default="{{browserDefault}}">{{#zones}}<option value="{{name}}" {{#selected}}selected{{/selected}}>{{name}}</option>{{/zones}}</select>
        {{#timezoneError}}<p class="error" id="timezone-error">{{timezoneError}}</p>{{/timezoneError}}
        <label for="inactive_days">Inactive for at least (days; inactive users)</label>
        <input type="number" id="inactive_days" name="inactive_days" min="1" value="{{inactiveDays}}">
        {{#inactiveDaysError}}<p class="error" id="inactive_days-error">{{inactiveDaysError}}</p>{{/inactiveDaysError}}
        {{#hasTargets}}
        <fieldset>
        <legend>Tell when it ends</legend>
        {{#targets}}<label><input type="checkbox" name="notify" value="{{name}}" {{#selected}}checked{{/selected}}> {{name}}</label>{{/targets}}
        {{#notifyError}}<p class="error" id="notify-error">{{notifyError}}</p>{{/notifyError}}
        </fieldset>
        {{/hasTargets}}
        <button type="submit" id="submit">Generate</button>
        </form>
        """

    static let report = """
        <h1>{{report}} <small>{{id}}</small></h1>
        <dl class="facts">
        <dt>Window (UTC)</dt><dd id="window-utc">{{windowFromUTC}} – {{windowToUTC}}</dd>
        <dt>Window ({{zone}})</dt><dd id="window-local">{{windowFromLocal}} – {{windowToLocal}}</dd>
        {{#notes}}<dt>Note</dt><dd>{{.}}</dd>{{/notes}}
        <dt>Source</dt><dd>{{source}}</dd>
        <dt>Asked by</dt><dd>{{owner}}</dd>
        <dt>Status</dt><dd><span id="state" data-job="{{id}}" data-state="{{state}}">{{state}}</span>{{#error}} <span class="error">{{error}}</span>{{/error}}</dd>
        {{#downloadable}}<dt>File</dt><dd><a href="/reports/{{id}}/download" id="download-csv">CSV</a> · <a href="/reports/{{id}}/download?gzip=1" id="download-gzip">gzip</a> ({{size}}; expires {{expires}})</dd>{{/downloadable}}
        </dl>
        {{#hasFigures}}
        <section aria-labelledby="glance-title">
        <h2 id="glance-title">At a glance</h2>
        <ul class="figures">{{#glance}}<li><span class="figure" id="figure-{{id}}">{{value}}</span> <span class="figure-name">{{name}}</span></li>{{/glance}}</ul>
        </section>
        {{/hasFigures}}
        <section aria-labelledby="statistics-title">
        <h2 id="statistics-title">Statistics</h2>
        <table class="stats">{{#statistics}}<tr><th scope="row">{{name}}</th><td id="stat-{{id}}">{{value}}</td></tr>{{/statistics}}</table>
        {{#hasSamples}}<h3>First malformed lines</h3><ul>{{#samples}}<li>{{object}} line {{line}}: {{reason}}</li>{{/samples}}</ul>{{/hasSamples}}
        </section>
        {{#hasCharts}}
        <section aria-labelledby="charts-title">
        <h2 id="charts-title">Charts</h2>
        <figure id="{{topChartId}}">{{{topChart}}}<figcaption>{{topCaption}}</figcaption></figure>
        <figure id="{{secondChartId}}">{{{secondChart}}}<figcaption>{{secondCaption}}</figcaption></figure>
        </section>
        {{/hasCharts}}
        {{#hasPreview}}
        <section aria-labelledby="preview-title">
        <h2 id="preview-title">First {{previewCount}} of {{rowCount}} rows</h2>
        {{#previewUnsorted}}<p id="preview-unsorted">The report is too large to sort here: these are its first rows; download it to sort.</p>{{/previewUnsorted}}
        <div class="table-wrap">
        <table id="preview">
        <thead><tr>{{#columns}}<th scope="col">{{#order}}<a href="/reports/{{id}}?sort={{name}}&amp;order={{order}}">{{name}}</a>{{arrow}}{{/order}}{{^order}}{{name}}{{/order}}</th>{{/columns}}</tr></thead>
        <tbody>{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody>
        </table>
        </div>
        </section>
        {{/hasPreview}}
        """

    static let error = """
        <h1>{{status}}</h1>
        <p class="error" role="alert" id="page-error">{{message}}</p>
        <p><a href="/">Back to the reports</a></p>
        """

    static let tokens = """
        <h1>Tokens</h1>
        {{#newSecret}}
        <section class="notice" aria-labelledby="secret-title">
        <h2 id="secret-title">The new token's secret</h2>
        <p>Shown this once: copy it now.</p>
        <output id="new-secret">{{newSecret}}</output>
        </section>
        {{/newSecret}}
        {{#formError}}<p class="error" role="alert" id="token-error">{{formError}}</p>{{/formError}}
        <h2>New token</h2>
        <form method="post" action="/admin/tokens" class="stack" id="create-token">
        <input type="hidden" name="form_token" value="{{formToken}}">
        <label for="user">User</label><input id="user" name="user" required>
        <label for="role">Role</label>
        <select id="role" name="role">{{#roles}}<option value="{{.}}">{{.}}</option>{{/roles}}</select>
        <label for="expires_days">Expires after (days; empty for never)</label><input id="expires_days" name="expires_days" type="number" min="1">
        <button type="submit" id="create">Create</button>
        </form>
        <h2>All tokens</h2>
        <div class="table-wrap">
        <table id="tokens">
        <thead><tr><th scope="col">Id</th><th scope="col">User</th><th scope="col">Role</th><th scope="col">Secret ends</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Revoked</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
        {{#list}}<tr data-token="{{id}}"><td>{{id}}</td><td>{{user}}</td><td>{{role}}</td><td>…{{fingerprint}}</td><td>{{created}}</td><td>{{expires}}</td><td>{{revoked}}</td>
        <td>{{^isRevoked}}<form method="post" action="/admin/tokens/{{id}}/revoke"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Revoke</button></form>{{/isRevoked}}</td></tr>{{/list}}
        </tbody>
        </table>
        </div>
        """

    static let activity = """
        <h1>Activity</h1>
        <section aria-labelledby="logging-title">
        <h2 id="logging-title">Who is logged</h2>
        {{#settingError}}<p class="error" role="alert" id="setting-error">{{settingError}}</p>{{/settingError}}
        {{#shownSetting}}<p id="shown-setting">{{shownSetting}}</p>{{/shownSetting}}
        <form method="post" action="/admin/activity/settings" class="stack" id="activity-setting">
        <input type="hidden" name="form_token" value="{{formToken}}">
        <label for="setting-user">User</label><input id="setting-user" name="user" required value="{{settingUser}}">
        <label><input type="radio" name="enabled" value="on" checked> Logged</label>
        <label><input type="radio" name="enabled" value="off"> Not logged</label>
        <label for="logs">To the logs (comma-separated)</label><input id="logs" name="logs" value="default">
        <button type="submit" id="save-setting">Save</button>
        </form>
        </section>
        <section aria-labelledby="rows-title">
        <h2 id="rows-title">The log</h2>
        {{#filterError}}<p class="error" role="alert" id="filter-error">{{filterError}}</p>{{/filterError}}
        <form method="get" action="/admin/activity" class="filters">
        <label for="log">Log</label><input id="log" name="log" value="{{log}}">
        <label for="filter-user">User</label><input id="filter-user" name="user" value="{{user}}">
        <label for="operation">Operation</label><input id="operation" name="operation" value="{{operation}}">
        <label for="from">From (RFC 3339)</label><input id="from" name="from" value="{{from}}">
        <label for="to">To</label><input id="to" name="to" value="{{to}}">
        <button type="submit" id="filter">Show</button>
        <a href="{{exportLink}}" id="export">Export CSV</a>
        </form>
        <div class="table-wrap">
        <table id="activity-rows">
        <thead><tr><th scope="col">Time</th><th scope="col">User</th><th scope="col">Operation</th><th scope="col">Auth</th><th scope="col">Status</th><th scope="col">Resources</th></tr></thead>
        <tbody>{{#rows}}<tr><td>{{time}}</td><td>{{user}}</td><td>{{operation}}</td><td>{{auth}}</td><td>{{status}}</td><td>{{resources}}</td></tr>{{/rows}}</tbody>
        </table>
        </div>
        {{#next}}<p><a href="{{next}}" id="more">More</a></p>{{/next}}
        </section>
        """

    static let schedules = """
        <h1>Schedules</h1>
        {{#formError}}<p class="error" role="alert" id="schedule-error">{{formError}}</p>{{/formError}}
        <div class="table-wrap">
        <table id="schedules">
        <thead><tr><th scope="col">Name</th><th scope="col">Report</th><th scope="col">Source</th><th scope="col">Window</th><th scope="col">Runs</th><th scope="col">Next run</th><th scope="col">Last job</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>{{#list}}<tr data-schedule="{{id}}"><td>{{name}}</td><td>{{report}}</td><td>{{source}}</td><td>{{window}} ({{zone}})</td><td>{{runs}}</td><td>{{nextRun}}</td><td>{{#lastJob}}<a href="/reports/{{lastJob}}">{{lastJob}}</a>{{/lastJob}}</td>
        <td><form method="post" action="/admin/schedules/{{id}}/delete"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Delete</button></form></td></tr>{{/list}}</tbody>
        </table>
        </div>
        <h2>New schedule</h2>
        <form method="post" action="/admin/schedules" class="stack" id="create-schedule">
        <input type="hidden" name="form_token" value="{{formToken}}">
        <label for="name">Name</label><input id="name" name="name" required>
        <label for="report">Report</label><select id="report" name="report"><option value="active-users">active-users</option><option value="inactive-users">inactive-users</option></select>
        <label for="source">Source</label><select id="source" name="source">{{#sources}}<option value="{{.}}">{{.}}</option>{{/sources}}</select>
        <label for="window">Window</label><select id="window" name="window"><option>previous-day</option><option>previous-week</option><option>previous-month</option><option>last-7-days</option><option>last-30-days</option><option>last-90-days</option></select>
        <label for="timezone">Time zone</label><select id="timezone" name="timezone" data-browser-default="true">{{#zones}}<option value="{{.}}">{{.}}</option>{{/zones}}</select>
        <label for="every">Every</label><select id="every" name="every"><option>daily</option><option>weekly</option><option>monthly</option></select>
        <label for="weekday">Weekday (weekly)</label><select id="weekday" name="weekday"><option></option><option>monday</option><option>tuesday</option><option>wednesday</option><option>thursday</option><option>friday</option><option>saturday</option><option>sunday</option></select>
        <label for="day">Day of the month (monthly)</label><input id="day" name="day" type="number" min="1" max="28">
        <label for="at">At (local HH:MM)</label><input id="at" name="at" value="06:00">
        <button type="submit" id="create">Create</button>
        </form>
        """
}
