"use strict";
// A small SVG line chart: several series overlaid, linear or log y,
// exponential smoothing, a legend that hides series, and a hover readout.
// Points are [x, y] with y a number, or a string ("NaN", "Inf") that
// breaks the line.
(function () {
  var M = {left: 64, right: 16, top: 22, bottom: 40};

  function Chart(container, opts) {
    this.opts = Object.assign({height: 260, xLabel: "step", yLabel: "", logY: false, smoothing: 0, markers: false, integerX: false}, opts);
    this.series = [];
    this.hidden = {};
    this.node = OL.el("div", {class: "chart"});
    this.plot = OL.el("div", {class: "plot"});
    this.tip = OL.el("div", {class: "tip", hidden: true});
    this.legend = OL.el("ul", {class: "legend"});
    this.node.appendChild(this.plot);
    this.node.appendChild(this.tip);
    this.node.appendChild(this.legend);
    container.appendChild(this.node);
    var self = this;
    window.addEventListener("resize", function () { self.render(); });
  }

  // set replaces the series: [{key, label, color, points}].
  Chart.prototype.set = function (series) { this.series = series; this.render(); };
  Chart.prototype.option = function (k, v) { this.opts[k] = v; this.render(); };

  function usable(y, logY) { return typeof y === "number" && isFinite(y) && (!logY || y > 0); }

  // smooth is the debiased exponential moving average TensorBoard draws;
  // a break (non-number) restarts it.
  function smooth(points, w) {
    if (!w) return points;
    var out = [], last = 0, n = 0;
    points.forEach(function (p) {
      if (typeof p[1] !== "number" || !isFinite(p[1])) { out.push(p); last = 0; n = 0; return; }
      last = last * w + (1 - w) * p[1];
      n++;
      out.push([p[0], last / (1 - Math.pow(w, n))]);
    });
    return out;
  }

  // ticks returns about n round values covering [lo, hi], whole numbers
  // only when integer is set (inference-loop counts).
  function ticks(lo, hi, n, integer) {
    if (hi <= lo) { hi = lo + 1; lo = lo - 1; }
    var raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    var step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag, out = [];
    if (integer) step = Math.max(1, Math.round(step));
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  Chart.prototype.visible = function () {
    var self = this;
    return this.series.filter(function (s) { return !self.hidden[s.key]; });
  };

  // domain finds the x and y ranges of what will be drawn.
  Chart.prototype.domain = function (drawn) {
    var logY = this.opts.logY, d = {x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity};
    drawn.forEach(function (s) {
      s.raw.concat(s.line).forEach(function (p) {
        if (!usable(p[1], logY)) return;
        var y = logY ? Math.log10(p[1]) : p[1];
        d.x0 = Math.min(d.x0, p[0]); d.x1 = Math.max(d.x1, p[0]);
        d.y0 = Math.min(d.y0, y); d.y1 = Math.max(d.y1, y);
      });
    });
    if (!isFinite(d.x0)) return null;
    if (d.x1 === d.x0) { d.x0 -= 1; d.x1 += 1; }
    var pad = (d.y1 - d.y0) * 0.05 || 0.5;
    d.y0 -= pad; d.y1 += pad;
    return d;
  };

  Chart.prototype.render = function () {
    var o = this.opts, self = this;
    var width = Math.max(320, this.plot.clientWidth || 720), height = o.height;
    var drawn = this.visible().map(function (s) {
      return {s: s, raw: s.points, line: smooth(s.points, o.smoothing)};
    });
    var d = this.domain(drawn);
    var root = OL.svg("svg", {viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img"});
    var total = 0;
    drawn.forEach(function (x) { total += x.raw.length; });
    root.setAttribute("data-series", String(drawn.length));
    root.setAttribute("data-points", String(total));
    OL.clear(this.plot).appendChild(root);
    this.renderLegend();
    if (!d) {
      root.appendChild(OL.svg("text", {x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty"}, "no data yet"));
      return;
    }
    var sx = function (x) { return M.left + (x - d.x0) / (d.x1 - d.x0) * (width - M.left - M.right); };
    var sy = function (y) { return height - M.bottom - (y - d.y0) / (d.y1 - d.y0) * (height - M.top - M.bottom); };
    this.axes(root, d, sx, sy, width, height);
    drawn.forEach(function (x) {
      if (o.smoothing) self.line(root, x.raw, x.s.color, sx, sy, "raw");
      self.line(root, x.line, x.s.color, sx, sy, "main");
    });
    this.hover(root, drawn, d, sx, sy, width, height);
  };

  Chart.prototype.axes = function (root, d, sx, sy, width, height) {
    var logY = this.opts.logY, g = OL.svg("g", {class: "axes"});
    ticks(d.x0, d.x1, Math.max(3, Math.floor(width / 110)), this.opts.integerX).forEach(function (t) {
      if (t < d.x0 || t > d.x1) return;
      g.appendChild(OL.svg("line", {x1: sx(t), x2: sx(t), y1: M.top, y2: height - M.bottom, class: "grid"}));
      g.appendChild(OL.svg("text", {x: sx(t), y: height - M.bottom + 16, "text-anchor": "middle"}, OL.fmtNum(t)));
    });
    var yt = logY ? ticks(Math.floor(d.y0), Math.ceil(d.y1), 5).filter(function (t) { return t === Math.round(t); })
      : ticks(d.y0, d.y1, 5);
    yt.forEach(function (t) {
      if (t < d.y0 || t > d.y1) return;
      g.appendChild(OL.svg("line", {x1: M.left, x2: width - M.right, y1: sy(t), y2: sy(t), class: "grid"}));
      g.appendChild(OL.svg("text", {x: M.left - 6, y: sy(t) + 4, "text-anchor": "end"}, OL.fmtNum(logY ? Math.pow(10, t) : t)));
    });
    g.appendChild(OL.svg("rect", {x: M.left, y: M.top, width: width - M.left - M.right, height: height - M.top - M.bottom, class: "frame"}));
    g.appendChild(OL.svg("text", {x: (M.left + width - M.right) / 2, y: height - 6, "text-anchor": "middle", class: "label"}, this.opts.xLabel));
    if (this.opts.yLabel) {
      g.appendChild(OL.svg("text", {x: M.left, y: M.top - 8, class: "label"}, this.opts.yLabel + (logY ? " (log scale)" : "")));
    }
    root.appendChild(g);
  };

  // line draws one series as a path broken at unusable values, with
  // markers when it has few points.
  Chart.prototype.line = function (root, points, color, sx, sy, cls) {
    var logY = this.opts.logY, path = "", pen = false, dots = [];
    points.forEach(function (p) {
      if (!usable(p[1], logY)) { pen = false; return; }
      var x = sx(p[0]), y = sy(logY ? Math.log10(p[1]) : p[1]);
      path += (pen ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
      pen = true;
      dots.push([x, y]);
    });
    if (path) root.appendChild(OL.svg("path", {d: path, stroke: color, fill: "none", class: "series " + cls}));
    if (cls === "main" && (this.opts.markers || dots.length <= 1)) {
      dots.forEach(function (c) { root.appendChild(OL.svg("circle", {cx: c[0], cy: c[1], r: 3, fill: color})); });
    }
  };

  // nearest returns the point of a sorted series closest to x.
  function nearest(points, x) {
    var lo = 0, hi = points.length - 1;
    if (hi < 0) return null;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (points[mid][0] < x) lo = mid; else hi = mid;
    }
    return Math.abs(points[lo][0] - x) <= Math.abs(points[hi][0] - x) ? points[lo] : points[hi];
  }

  Chart.prototype.hover = function (root, drawn, d, sx, sy, width, height) {
    var self = this, cursor = OL.svg("line", {y1: M.top, y2: height - M.bottom, class: "cursor", visibility: "hidden"});
    var area = OL.svg("rect", {x: M.left, y: M.top, width: width - M.left - M.right, height: height - M.top - M.bottom, class: "hover"});
    root.appendChild(cursor);
    root.appendChild(area);
    area.addEventListener("mousemove", function (ev) {
      var box = root.getBoundingClientRect(), px = (ev.clientX - box.left) * width / box.width;
      var x = d.x0 + (px - M.left) / (width - M.left - M.right) * (d.x1 - d.x0);
      cursor.setAttribute("x1", px);
      cursor.setAttribute("x2", px);
      cursor.setAttribute("visibility", "visible");
      var rows = drawn.map(function (s) {
        var p = nearest(s.line, x);
        return p && OL.el("div", null, OL.el("span", {class: "swatch-text"}, "■ "), s.s.label + ": " + OL.fmtNum(p[1]) + " @ " + OL.fmtNum(p[0]));
      });
      OL.clear(self.tip);
      rows.forEach(function (r, i) {
        if (!r) return;
        r.firstChild.style.color = drawn[i].s.color;
        self.tip.appendChild(r);
      });
      self.tip.hidden = false;
      self.tip.style.left = Math.min(ev.clientX - box.left + 14, box.width - 260) + "px";
      self.tip.style.top = (ev.clientY - box.top + 10) + "px";
    });
    area.addEventListener("mouseleave", function () {
      cursor.setAttribute("visibility", "hidden");
      self.tip.hidden = true;
    });
  };

  Chart.prototype.renderLegend = function () {
    var self = this;
    OL.clear(this.legend);
    if (this.series.length < 2 && !this.opts.alwaysLegend) return;
    this.series.forEach(function (s) {
      var item = OL.el("li", {class: self.hidden[s.key] ? "off" : "", title: "click to hide or show"},
        OL.svg("svg", {width: 14, height: 10}, OL.svg("rect", {width: 14, height: 10, fill: s.color})), " ", s.label);
      item.addEventListener("click", function () {
        self.hidden[s.key] = !self.hidden[s.key];
        self.render();
      });
      self.legend.appendChild(item);
    });
  };

  OL.Chart = Chart;
})();
