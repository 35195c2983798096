"use strict";
// Helpers every page uses. Everything that comes from the database is put
// into the page as text (text nodes, attribute values), never as markup.
var OL = (function () {
  var SVGNS = "http://www.w3.org/2000/svg";

  // make creates an element in namespace ns. attrs are set as attributes;
  // event-handler attributes are refused (listeners are added in code).
  // children are nodes, or anything else, which becomes text.
  function make(ns, tag, attrs, children) {
    var node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (/^on/i.test(k)) throw new Error("event handler attribute " + k);
      var v = attrs[k];
      if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : String(v));
    });
    children.forEach(function (c) { append(node, c); });
    return node;
  }

  function append(node, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(node, x); }); return; }
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }

  function el(tag, attrs) { return make(null, tag, attrs, Array.prototype.slice.call(arguments, 2)); }
  function svg(tag, attrs) { return make(SVGNS, tag, attrs, Array.prototype.slice.call(arguments, 2)); }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // getJSON fetches url, revalidating with the ETag the browser kept, and
  // says whether the answer changed since the last call for that url.
  var etags = {};
  function getJSON(url) {
    return fetch(url, {cache: "no-cache", headers: {"Accept": "application/json"}}).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.error || res.status + " " + res.statusText);
        });
      }
      var tag = res.headers.get("ETag");
      if (tag && etags[url] === tag) return {data: null, changed: false};
      return res.json().then(function (data) {
        etags[url] = tag;
        return {data: data, changed: true};
      });
    });
  }

  // poll runs step now and again every ms after it settles (slower while
  // the tab is hidden); the header says when the page last heard from the
  // server, or why it did not.
  // A step that fails forgets the ETags seen, so the next one redraws
  // everything rather than trusting a page half drawn.
  function poll(ms, step) {
    function tick() {
      Promise.resolve().then(step).then(function () { live(null); }, function (err) {
        etags = {};
        console.error(err);
        live(err);
      }).then(function () {
        setTimeout(tick, document.hidden ? 5 * ms : ms);
      });
    }
    tick();
  }

  function live(err) {
    var n = document.getElementById("live");
    if (!n) return;
    n.textContent = err ? "not updating: " + err.message : "live · " + new Date().toLocaleTimeString();
    n.className = err ? "live err" : "live ok";
  }

  function main() { return clear(document.getElementById("main")); }
  function params() { return new URLSearchParams(location.search); }

  function fmtNum(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "string") return v; // "NaN", "Inf", "-Inf"
    if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }

  function fmtTime(ms) { return ms ? new Date(ms).toLocaleString() : "—"; }

  function fmtDuration(s) {
    if (typeof s !== "number" || !s) return "—";
    if (s < 60) return s.toFixed(1) + " s";
    var m = Math.floor(s / 60), h = Math.floor(m / 60);
    return h ? h + " h " + String(m % 60).padStart(2, "0") + " min" : m + " min " + String(Math.round(s % 60)).padStart(2, "0") + " s";
  }

  function shortID(id) { return String(id).slice(0, 12); }

  // slug makes a class name from a status or outcome ("not reproduced").
  function slug(s) { return String(s).toLowerCase().replace(/[^a-z0-9]+/g, "-"); }
  function badge(kind) { return el("span", {class: "badge " + slug(kind)}, kind); }

  function gridLink(name) { return el("a", {href: "/grid?name=" + encodeURIComponent(name)}, name); }
  function runLink(id, text) { return el("a", {href: "/run?id=" + encodeURIComponent(id), class: "mono"}, text || shortID(id)); }

  // table builds a plain table: head is a list of labels, rows lists of
  // cells (text or nodes).
  function table(head, rows, cls) {
    return el("table", {class: cls || ""},
      el("thead", null, el("tr", null, head.map(function (h) { return el("th", null, h); }))),
      el("tbody", null, rows.map(function (r) {
        return el("tr", null, r.map(function (c) { return el("td", null, c); }));
      })));
  }

  // palette colours curves by their place in a list (Tableau 10).
  var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function color(i) { return palette[i % palette.length]; }

  // The comparison tray: run ids picked on any page, kept in this
  // browser's storage until compared.
  var TRAY = "outerloop.compare";
  function trayGet() {
    try {
      var v = JSON.parse(localStorage.getItem(TRAY) || "[]");
      return Array.isArray(v) ? v.filter(function (s) { return typeof s === "string"; }) : [];
    } catch (e) { return []; }
  }
  function traySet(ids) {
    localStorage.setItem(TRAY, JSON.stringify(ids.filter(function (id, i) { return ids.indexOf(id) === i; })));
    trayShow();
  }
  function trayToggle(id, on) {
    var ids = trayGet().filter(function (x) { return x !== id; });
    if (on) ids.push(id);
    traySet(ids);
  }
  function compareURL(ids) {
    return "/compare?" + ids.map(function (id) { return "run=" + encodeURIComponent(id); }).join("&");
  }
  function trayShow() {
    var ids = trayGet(), count = document.getElementById("tray-count"), link = document.getElementById("tray-link");
    if (count) count.textContent = String(ids.length);
    if (link) link.setAttribute("href", compareURL(ids));
  }
  window.addEventListener("storage", trayShow);
  document.addEventListener("DOMContentLoaded", trayShow);

  function section(title, id) {
    return el("section", {id: id}, el("h2", null, title));
  }

  return {
    el: el, svg: svg, clear: clear, getJSON: getJSON, poll: poll, main: main, params: params,
    fmtNum: fmtNum, fmtTime: fmtTime, fmtDuration: fmtDuration, shortID: shortID, slug: slug, badge: badge,
    gridLink: gridLink, runLink: runLink, table: table, color: color, section: section,
    tray: {get: trayGet, set: traySet, toggle: trayToggle, url: compareURL}
  };
})();
