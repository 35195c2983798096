// Package web is the live experiment-tracking UI that `harness serve`
// serves over a results database: grids with their claim verdicts, a
// grid's sortable and filterable runs table with the report's figures,
// live curves overlaid across runs, one run's config, provenance, metrics,
// inference-loop curves, checkpoint and failure, and a comparison of runs
// from one grid or several.
//
// The server reads the database through a read-only results.Store while
// `harness run` processes write it. Pages are static shells; small
// embedded scripts (no libraries, nothing fetched from elsewhere) draw
// them from JSON endpoints and poll those for changes: every endpoint
// answers with an ETag made from results.Store.Stamp, so a poll of an
// unchanged grid costs one aggregate over its run rows and a 304. Curves
// are downsampled on the server (Downsample), and claim verdicts and
// figures are rebuilt with reports.Load and reports.Build in the
// background when a grid's stamp changes, one build at a time.
//
// Everything from the database reaches the page as JSON and is put into
// the document with textContent, never as markup, and a strict
// Content-Security-Policy allows only the server's own scripts; the
// report's SVG figures, which gonum writes with escaped text, are the only
// markup inserted.
package web
