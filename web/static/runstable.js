"use strict";
// The runs table of a grid page: any config key, metric or evaluation as a
// column, sorting on any column, a filter ("train.loops>=4 status=done
// hrm"), and a selection that the page's curves and the comparison use.
(function () {
  var STATUS_ORDER = {running: 0, pending: 1, interrupted: 2, failed: 3, done: 4};

  function lastStep(r) {
    var s = -1;
    Object.keys(r.last).forEach(function (m) { s = Math.max(s, r.last[m][0]); });
    return s < 0 ? null : s;
  }

  // columns lists every column the data allows: value gives what a row
  // sorts and filters by, text what it shows.
  function columns(data) {
    var cols = [
      {id: "id", label: "run", group: "run", value: function (r) { return r.id; }, node: function (r) { return OL.runLink(r.id); }},
      {id: "status", label: "status", group: "run", value: function (r) { return r.status; }, node: function (r) { return OL.badge(r.status); },
        order: function (r) { return STATUS_ORDER[r.status]; }},
      {id: "seed", label: "seed", group: "run", value: function (r) { return r.seed; }},
      {id: "step", label: "step", group: "run", value: lastStep},
      {id: "checkpoint", label: "checkpoint", group: "run", value: function (r) { return r.checkpoint < 0 ? null : r.checkpoint; }},
      {id: "attempts", label: "attempts", group: "run", value: function (r) { return r.attempts; }},
      {id: "wall", label: "wall", group: "run", value: function (r) { return r.wall; }, text: function (r) { return OL.fmtDuration(r.wall); }},
      {id: "error", label: "error", group: "run", value: function (r) { return r.error; },
        text: function (r) { var l = r.error.split("\n")[0]; return l.length > 100 ? l.slice(0, 100) + "…" : l; }}
    ];
    data.keys.forEach(function (k, i) {
      cols.push({id: "cfg:" + k, label: k, group: "config", value: function (r) { return r.config[i]; }});
    });
    data.metrics.forEach(function (m) {
      cols.push({id: "last:" + m, label: m, group: "metric (newest value)", value: function (r) { return r.last[m] ? r.last[m][1] : null; }});
    });
    data.evals.forEach(function (m) {
      cols.push({id: "final:" + m, label: m + " (eval)", group: "evaluation (last, most loops)",
        value: function (r) { return r.final[m] ? r.final[m][1] : null; },
        text: function (r) { return r.final[m] ? OL.fmtNum(r.final[m][1]) + " @" + r.final[m][0] : "—"; }});
    });
    return cols;
  }

  function defaults(data) {
    var ids = ["id", "status"];
    data.varying.forEach(function (k) { if (k !== "seed") ids.push("cfg:" + k); });
    ids.push("seed", "step");
    if (data.metrics.indexOf("loss") >= 0) ids.push("last:loss");
    data.evals.forEach(function (m) { ids.push("final:" + m); });
    ids.push("wall", "attempts", "error");
    return ids;
  }

  function numeric(v) {
    if (typeof v === "number") return v;
    if (typeof v === "string" && v.trim() !== "" && isFinite(Number(v))) return Number(v);
    return null;
  }

  function compare(a, b) {
    var x = numeric(a), y = numeric(b);
    if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
    if (b === null || b === undefined) return -1;
    if (x !== null && y !== null) return x - y;
    return String(a).localeCompare(String(b), undefined, {numeric: true});
  }

  // parseFilter reads terms separated by spaces: key OP value (OP one of
  // = != > < >= <= ~) or bare text matched anywhere in the row.
  function parseFilter(text) {
    return text.split(/\s+/).filter(Boolean).map(function (t) {
      var m = /^([^=<>!~]+)(>=|<=|!=|=|>|<|~)(.*)$/.exec(t);
      return m ? {key: m[1], op: m[2], value: m[3]} : {any: t.toLowerCase()};
    });
  }

  function test(v, op, want) {
    var x = numeric(v), y = numeric(want), c;
    if (op === "~") return String(v === null ? "" : v).toLowerCase().indexOf(want.toLowerCase()) >= 0;
    c = x !== null && y !== null ? x - y : String(v === null ? "" : v).localeCompare(want);
    return {"=": c === 0, "!=": c !== 0, ">": c > 0, "<": c < 0, ">=": c >= 0, "<=": c <= 0}[op];
  }

  // ROWS is how many rows are drawn at first and added per scroll: a
  // browser lays out a thousand-row table in seconds, a hundred rows at
  // once in a blink, and only what is scrolled to needs to exist.
  var ROWS = 100;

  function RunsTable(container, grid, onChange) {
    var self = this;
    this.limit = ROWS;
    this.grid = grid;
    this.onChange = onChange;
    this.selected = {};
    this.sort = {id: null, asc: true};
    this.filter = OL.el("input", {type: "search", id: "runs-filter", placeholder: "filter: train.loops>=4 status=done hrm", size: 40});
    this.filter.addEventListener("input", function () { self.render(); });
    this.count = OL.el("span", {class: "meta", id: "runs-count"});
    this.problems = OL.el("span", {class: "meta err"});
    this.picker = OL.el("details", {class: "columns"}, OL.el("summary", null, "columns"));
    this.pickerBody = OL.el("div", {class: "picker"});
    this.picker.appendChild(this.pickerBody);
    var running = OL.el("button", {type: "button"}, "select running");
    running.addEventListener("click", function () { self.selectWhere(function (r) { return r.status === "running"; }); });
    var none = OL.el("button", {type: "button"}, "clear selection");
    none.addEventListener("click", function () { self.selected = {}; self.render(); });
    this.compare = OL.el("button", {type: "button", id: "compare-selected"}, "compare selected");
    this.compare.addEventListener("click", function () {
      var ids = self.selection();
      if (!ids.length) return;
      OL.tray.set(OL.tray.get().concat(ids));
      location.href = OL.tray.url(ids);
    });
    container.appendChild(OL.el("div", {class: "controls"}, this.filter, this.picker, running, none, this.compare, this.count, this.problems));
    this.table = OL.el("table", {class: "runs sortable", id: "runs-table"});
    var wrap = OL.el("div", {class: "table-wrap"}, this.table);
    wrap.addEventListener("scroll", function () {
      if (self.visible && self.limit < self.visible.length && wrap.scrollTop + wrap.clientHeight > wrap.scrollHeight - 300) {
        self.limit += ROWS;
        self.render();
      }
    });
    container.appendChild(wrap);
  }

  RunsTable.prototype.update = function (data) {
    var known = this.cols ? this.cols.map(function (c) { return c.id; }).join() : "";
    this.data = data;
    this.cols = columns(data);
    if (!this.shown) {
      var saved = null;
      try { saved = JSON.parse(localStorage.getItem("outerloop.columns." + this.grid) || "null"); } catch (e) { saved = null; }
      this.shown = Array.isArray(saved) ? saved : defaults(data);
    }
    if (known !== this.cols.map(function (c) { return c.id; }).join()) this.renderPicker();
    this.render();
  };

  RunsTable.prototype.renderPicker = function () {
    var self = this, groups = {};
    OL.clear(this.pickerBody);
    this.cols.forEach(function (c) { (groups[c.group] = groups[c.group] || []).push(c); });
    Object.keys(groups).forEach(function (g) {
      var box = OL.el("fieldset", null, OL.el("legend", null, g));
      groups[g].forEach(function (c) {
        var cb = OL.el("input", {type: "checkbox", checked: self.shown.indexOf(c.id) >= 0, "data-column": c.id});
        cb.addEventListener("change", function () {
          self.shown = self.shown.filter(function (id) { return id !== c.id; });
          if (cb.checked) self.shown.push(c.id);
          localStorage.setItem("outerloop.columns." + self.grid, JSON.stringify(self.shown));
          self.render();
        });
        box.appendChild(OL.el("label", null, cb, " ", c.label));
      });
      self.pickerBody.appendChild(box);
    });
  };

  RunsTable.prototype.column = function (key) {
    var cols = this.cols;
    var byLabel = cols.filter(function (c) { return c.label === key || c.id === key; })[0];
    return byLabel || ["cfg:", "final:", "last:"].map(function (p) {
      return cols.filter(function (c) { return c.id === p + key; })[0];
    }).filter(Boolean)[0];
  };

  // rows returns the runs that pass the filter, in the chosen order.
  RunsTable.prototype.rows = function () {
    var self = this, terms = parseFilter(this.filter.value), unknown = [];
    terms.forEach(function (t) { if (t.key) { t.col = self.column(t.key); if (!t.col) unknown.push(t.key); } });
    this.problems.textContent = unknown.length ? "no column " + unknown.join(", ") : "";
    var rows = this.data.runs.filter(function (r) {
      return terms.every(function (t) {
        if (t.key) return !t.col || test(t.col.value(r), t.op, t.value);
        var hay = [r.id, r.status, r.error].concat(r.config).join(" ").toLowerCase();
        return hay.indexOf(t.any) >= 0;
      });
    });
    var col = this.sort.id && this.cols.filter(function (c) { return c.id === self.sort.id; })[0];
    if (col) {
      var key = col.order || col.value, dir = this.sort.asc ? 1 : -1;
      rows = rows.slice().sort(function (a, b) { return dir * compare(key(a), key(b)); });
    }
    return rows;
  };

  RunsTable.prototype.render = function () {
    var self = this, shown = this.cols.filter(function (c) { return self.shown.indexOf(c.id) >= 0; });
    shown.sort(function (a, b) { return self.shown.indexOf(a.id) - self.shown.indexOf(b.id); });
    var rows = this.rows();
    this.visible = rows;
    var all = OL.el("input", {type: "checkbox", title: "select the runs shown",
      checked: rows.length > 0 && rows.every(function (r) { return self.selected[r.id]; })});
    all.addEventListener("change", function () {
      rows.forEach(function (r) { if (all.checked) self.selected[r.id] = true; else delete self.selected[r.id]; });
      self.render();
    });
    var head = OL.el("tr", null, OL.el("th", null, all), shown.map(function (c) { return self.header(c); }));
    var body = OL.el("tbody", null, rows.slice(0, this.limit).map(function (r) { return self.row(r, shown); }));
    if (rows.length > this.limit) {
      body.appendChild(OL.el("tr", {class: "more"}, OL.el("td", {colspan: shown.length + 1},
        (rows.length - this.limit) + " more: scroll down to draw them")));
    }
    OL.clear(this.table).appendChild(OL.el("thead", null, head));
    this.table.appendChild(body);
    var n = this.selection().length;
    this.count.textContent = rows.length + " of " + this.data.runs.length + " runs" + (n ? " · " + n + " selected" : "");
    this.count.setAttribute("data-shown", String(rows.length));
    this.compare.disabled = n === 0;
    this.onChange();
  };

  RunsTable.prototype.header = function (c) {
    var self = this, th = OL.el("th", {"data-column": c.id, title: "sort by " + c.label}, c.label);
    if (this.sort.id === c.id) th.setAttribute("aria-sort", this.sort.asc ? "ascending" : "descending");
    th.addEventListener("click", function () {
      self.sort = {id: c.id, asc: self.sort.id === c.id ? !self.sort.asc : true};
      self.render();
    });
    return th;
  };

  RunsTable.prototype.row = function (r, shown) {
    var self = this, cb = OL.el("input", {type: "checkbox", checked: !!this.selected[r.id], "data-run": r.id});
    cb.addEventListener("change", function () {
      if (cb.checked) self.selected[r.id] = true; else delete self.selected[r.id];
      self.render();
    });
    return OL.el("tr", {"data-run": r.id, "data-status": r.status}, OL.el("td", null, cb), shown.map(function (c) {
      var v = c.value(r), cell = c.node ? c.node(r) : c.text ? c.text(r) : typeof v === "number" ? OL.fmtNum(v) : v === null ? "—" : v;
      return OL.el("td", {class: typeof v === "number" ? "num" : "", title: c.id === "error" ? r.error : null}, cell);
    }));
  };

  RunsTable.prototype.selectWhere = function (pred) {
    var self = this;
    this.data.runs.forEach(function (r) { if (pred(r)) self.selected[r.id] = true; });
    this.render();
  };

  // selection lists the selected runs that are still in the grid.
  RunsTable.prototype.selection = function () {
    var self = this;
    return (this.data ? this.data.runs : []).filter(function (r) { return self.selected[r.id]; }).map(function (r) { return r.id; });
  };

  OL.RunsTable = RunsTable;
})();
