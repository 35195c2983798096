package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLoadRejects covers every validation rule of the grid file: each bad
// grid must fail with an error naming the key and the line it is on.
func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		toml string
		key  string
		line int
		rule string
	}{
		{"syntax error", "name = \"t\"\n[train]\nloops = = 3\n", "train.loops", 3, "invalid TOML"},
		{"duplicate key", "name = \"t\"\n[train]\nloops = 1\nloops = 2\n", "train.loops", 4, "invalid TOML"},
		{"unknown top-level key", "name = \"t\"\nseed = [1]\n", "seed", 2, `unknown key (did you mean "seeds"?)`},
		{"unknown section key", "name = \"t\"\n[model]\ncore = \"trm\"\ndropuot = 0.1\n", "model.dropuot", 4, "unknown key"},
		{"unknown table", "name = \"t\"\n[extra]\nx = 1\n", "extra", 2, "unknown key"},
		{"nested table in section", "name = \"t\"\n[train.opt]\nlr = 1\n", "train.opt", 2, "unknown key"},
		{"wrong case", "name = \"t\"\n[train]\nLoops = 3\n", "train.Loops", 3, `did you mean "train.loops"? keys are case-sensitive`},
		{"wrong case section", "name = \"t\"\n[MODEL]\nhidden = 3\n", "MODEL", 2, `did you mean "model"?`},
		{"wrong type int", "name = \"t\"\n[model]\nhidden = \"sixty\"\n", "model.hidden", 3, "must be an integer, not a string"},
		{"float into int", "name = \"t\"\n[train]\nsteps = 1.5\n", "train.steps", 3, "must be an integer, not a float"},
		{"wrong type bool", "name = \"t\"\n[train]\nema = 1\n", "train.ema", 3, "must be a boolean"},
		{"wrong type list", "name = \"t\"\n[task]\nname = \"arc-lite\"\nfamilies = [1]\n", "task.families", 4, "must be a list of strings"},
		{"section not a table", "name = \"t\"\ntrain = 3\n", "train", 2, "must be a table"},
		{"name missing", "title = \"x\"\n", "name", 0, "missing"},
		{"name not a string", "name = 3\n", "name", 1, "must be a string"},
		{"name with spaces", "name = \"my grid\"\n", "name", 1, "must be letters"},
		{"zero loop count", "name = \"t\"\n[train]\nloops = 0\n", "train.loops", 3, "must be at least 1"},
		{"negative loop count", "name = \"t\"\n\n[eval]\nloops = -2\n", "eval.loops", 4, "must be at least 1"},
		{"zero cycles", "name = \"t\"\n[model]\nh_cycles = 0\n", "model.h_cycles", 3, "must be at least 1"},
		{"zero depth", "name = \"t\"\n[model]\ndepth = 0\n", "model.depth", 3, "must be at least 1"},
		{"zero layers", "name = \"t\"\n[model]\nlayers = 0\n", "model.layers", 3, "must be at least 1"},
		{"zero steps", "name = \"t\"\n[train]\nsteps = 0\n", "train.steps", 3, "must be at least 1"},
		{"zero batch", "name = \"t\"\n[eval]\nbatch = 0\n", "eval.batch", 3, "must be at least 1"},
		{"unknown core", "name = \"t\"\n[model]\ncore = \"rnn\"\n", "model.core", 3, `must be one of "hrm" | "trm" | "ut" | "transformer"`},
		{"unknown task", "name = \"t\"\n[task]\nname = \"chess\"\n", "task.name", 3, `must be one of "sudoku" | "maze" | "arc" | "arc-lite"`},
		{"sudoku size", "name = \"t\"\n[task]\nsize = 5\n", "task.size", 3, "sudoku size must be 4, 6 or 9"},
		{"maze too small", "name = \"t\"\n[task]\nname = \"maze\"\nsize = 3\n", "task.size", 4, "at least 5"},
		{"maze default size", "name = \"t\"\n[task]\nname = \"maze\"\n", "task.size", 3, "at least 5"},
		{"arc-lite too big", "name = \"t\"\n[task]\nname = \"arc-lite\"\nsize = 13\n", "task.size", 4, "1..12"},
		{"arc without data", "name = \"t\"\n[task]\nname = \"arc\"\nsize = 30\n", "task.source", 3, "arc has no generator"},
		{"empty source", "name = \"t\"\n[task]\nsource = \"\"\n", "task.source", 3, `must be "generate" or a path`},
		{"no training puzzles", "name = \"t\"\n[task]\ntrain = 0\n", "task.train", 3, "at least 1"},
		{"negative min guesses", "name = \"t\"\n[task]\nmin_guesses = -1\n", "task.min_guesses", 3, "at least 0"},
		{"negative votes", "name = \"t\"\n[task]\nvotes = -1\n", "task.votes", 3, "at least 0"},
		{"negative augment", "name = \"t\"\n[task]\naugment = -1\n", "task.augment", 3, "at least 0"},
		{"too many givens", "name = \"t\"\n[task]\ngivens = 17\n", "task.givens", 3, "at most 16"},
		{"families outside arc-lite", "name = \"t\"\n[task]\nfamilies = [\"gravity\"]\n", "task.families", 3, "only to task.name = \"arc-lite\""},
		{"repeated family", "name = \"t\"\n[task]\nname = \"arc-lite\"\nsize = 8\nfamilies = [\"a\", \"a\"]\n", "task.families", 5, "listed twice"},
		{"unknown subset", "name = \"t\"\n[task]\nname = \"arc\"\nsource = \"data/arc\"\nsize = 30\nsubsets = [\"test\"]\n", "task.subsets", 6, "must be one of"},
		{"hidden below heads", "name = \"t\"\n[model]\nhidden = 3\n", "model.hidden", 3, "at least model.heads (4)"},
		{"odd rope head", "name = \"t\"\n[model]\nhidden = 12\npos = \"rope\"\n", "model.hidden", 3, "must be even for rope"},
		{"odd rope width located at swept heads", "name = \"t\"\n[model]\npos = \"rope\"\n[sweep]\n\"model.heads\" = [3, 4]\n", "model.hidden", 5, "must be even for rope"},
		{"zero expansion", "name = \"t\"\n[model]\nexpansion = 0\n", "model.expansion", 3, "greater than 0"},
		{"unknown mixer", "name = \"t\"\n[model]\nmixer = \"conv\"\n", "model.mixer", 3, "must be one of"},
		{"unknown pos", "name = \"t\"\n[model]\npos = \"alibi\"\n", "model.pos", 3, "must be one of"},
		{"mlp with learned pos", "name = \"t\"\n[model]\nmixer = \"mlp\"\npos = \"learned\"\n", "model.pos", 4, `model.mixer = "mlp" takes pos`},
		{"act outside ut", "name = \"t\"\n[model]\nact = true\n", "model.act", 3, `needs model.core = "ut"`},
		{"negative puzzle embedding", "name = \"t\"\n[model]\npuzzle_emb_len = -1\n", "model.puzzle_emb_len", 3, "at least 0"},
		{"negative ponder cost", "name = \"t\"\n[model]\nponder_cost = -0.1\n", "model.ponder_cost", 3, "at least 0"},
		{"zero lr", "name = \"t\"\n[train]\nlr = 0\n", "train.lr", 3, "greater than 0"},
		{"nan lr", "name = \"t\"\n[train]\nlr = nan\n", "train.lr", 3, "finite"},
		{"inf weight decay", "name = \"t\"\n[train]\nweight_decay = inf\n", "train.weight_decay", 3, "finite"},
		{"beta of one", "name = \"t\"\n[train]\nbeta2 = 1.0\n", "train.beta2", 3, "[0, 1)"},
		{"exploration probability", "name = \"t\"\n[train]\nexploration = 1.5\n", "train.exploration", 3, "[0, 1]"},
		{"lr min ratio", "name = \"t\"\n[train]\nlr_min_ratio = -0.5\n", "train.lr_min_ratio", 3, "[0, 1]"},
		{"ema rate", "name = \"t\"\n[train]\nema_rate = 1\n", "train.ema_rate", 3, "[0, 1)"},
		{"unknown halting", "name = \"t\"\n[train]\nhalting = \"act\"\n", "train.halting", 3, `"q" | "bce" | "off"`},
		{"unknown gradient", "name = \"t\"\n[train]\ngradient = \"bptt\"\n", "train.gradient", 3, `"one-step" | "last-cycle" | "full"`},
		{"unknown schedule", "name = \"t\"\n[train]\nschedule = \"mixed\"\n", "train.schedule", 3, `"carry" | "same-batch"`},
		{"unknown lr schedule", "name = \"t\"\n[train]\nlr_schedule = \"step\"\n", "train.lr_schedule", 3, `"constant" | "cosine"`},
		{"unknown loss", "name = \"t\"\n[train]\nloss = \"mse\"\n", "train.loss", 3, `"stablemax" | "softmax"`},
		{"bad device", "name = \"t\"\n[train]\ndevice = \"gpu\"\n", "train.device", 3, `"cpu", "cuda" or "cuda:N"`},
		{"bad device number", "name = \"t\"\n[train]\ndevice = \"cuda:x\"\n", "train.device", 3, `"cuda:N"`},
		{"zero log interval", "name = \"t\"\n[train]\nlog_every = 0\n", "train.log_every", 3, "at least 1"},
		{"negative checkpoint interval", "name = \"t\"\n[train]\ncheckpoint_every = -1\n", "train.checkpoint_every", 3, "at least 0"},
		{"negative samples", "name = \"t\"\n[eval]\nsamples = -1\n", "eval.samples", 3, "at least 0"},
		{"seeds empty", "name = \"t\"\nseeds = []\n", "seeds", 2, "at least one seed"},
		{"seeds duplicated", "name = \"t\"\nseeds = [1,\n  2,\n  1]\n", "seeds[2]", 4, "seed 1 is listed twice"},
		{"seeds not integers", "name = \"t\"\nseeds = [1, \"2\"]\n", "seeds[1]", 2, "must be an integer"},
		{"seeds not a list", "name = \"t\"\nseeds = 3\n", "seeds", 2, "must be a list of integers"},
		{"sweep unknown key", "name = \"t\"\n[sweep]\n\"train.lopps\" = [1, 2]\n", "sweep.train.lopps", 3, `sweeps a key that does not exist: unknown key (did you mean "train.loops"?)`},
		{"sweep unknown section", "name = \"t\"\n[sweep]\n\"optim.lr\" = [1, 2]\n", "sweep.optim.lr", 3, "does not exist"},
		{"sweep empty axis", "name = \"t\"\n[sweep]\n\"train.loops\" = []\n", "sweep.train.loops", 3, "empty axis"},
		{"sweep not a list", "name = \"t\"\n[sweep]\n\"train.loops\" = 4\n", "sweep.train.loops", 3, "must be a list"},
		{"sweep wrong type", "name = \"t\"\n[sweep]\n\"train.loops\" = [1,\n  \"two\"]\n", "sweep.train.loops[1]", 4, "must be an integer, not a string"},
		{"sweep zero loops", "name = \"t\"\n[sweep]\n\"train.loops\" = [0, 4]\n", "train.loops", 3, "must be at least 1"},
		{"sweep unknown core", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"rnn\"]\n", "model.core", 3, "must be one of"},
		{"sweep repeated value", "name = \"t\"\n[sweep]\n\"model.expansion\" = [4, 4.0]\n", "sweep.model.expansion[1]", 3, "listed twice"},
		{"sweep the seed", "name = \"t\"\n[sweep]\nseed = [1, 2]\n", "sweep.seed", 3, "top-level seeds"},
		{"sweep threads", "name = \"t\"\n[sweep]\n\"train.threads\" = [1, 2]\n", "sweep.train.threads", 3, "not part of a run's identity"},
		{"sweep dotted and quoted twice", "name = \"t\"\n[sweep]\n\"train.loops\" = [1]\ntrain.loops = [2]\n", "sweep.train.loops", 3, "swept twice"},
		{"sweep not a table", "name = \"t\"\nsweep = [1]\n", "sweep", 2, "must be a table"},
		{"sweep empty subtable", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[sweep.zz]\n", "sweep.zz", 4, "is an empty table"},
		{"sweep empty nested subtable", "name = \"t\"\n[sweep.train.loops]\n", "sweep.train.loops", 2, "not a table"},
		{"sweep subtable of unknown keys", "name = \"t\"\n[sweep.zz]\nx = [1, 2]\n", "sweep.zz.x", 3, "does not exist"},
		{"sweep value is an inline table", "name = \"t\"\n[sweep]\n\"train.loops\" = {a = [1, 2]}\n", "sweep.train.loops", 3, "must be a list of values to sweep, e.g. [1, 2, 4], not a table"},
		{"sweep value is a table under a setting", "name = \"t\"\n[sweep.train.loops]\na = [1, 2]\n", "sweep.train.loops", 2, "not a table"},
		{"sweep value is an array of tables", "name = \"t\"\n[[sweep.train.loops]]\na = 1\n", "sweep.train.loops", 2, "not an array of tables"},
		{"sweep list of tables", "name = \"t\"\n[sweep]\n\"train.loops\" = [{a = 1}]\n", "sweep.train.loops[0]", 3, "must be an integer"},
		{"sweep list of lists", "name = \"t\"\n[sweep]\n\"train.loops\" = [[1, 2]]\n", "sweep.train.loops[0]", 3, "must be an integer"},
		{"zip unequal lengths", "name = \"t\"\n[[sweep.zip]]\n\"train.loops\" = [1, 2]\n\"train.steps\" = [100, 200, 300]\n", "sweep.zip[0]", 2, "equal lengths: train.loops has 2, train.steps has 3"},
		{"zip as plain table", "name = \"t\"\n[sweep.zip]\n\"train.loops\" = [1, 2]\n", "sweep.zip", 2, "write [[sweep.zip]]"},
		{"zip empty group", "name = \"t\"\n[[sweep.zip]]\n", "sweep.zip[0]", 2, "empty zip group"},
		{"zip unknown key", "name = \"t\"\n[[sweep.zip]]\n\"train.loops\" = [1, 2]\n\"train.stepz\" = [1, 2]\n", "sweep.zip[0].train.stepz", 4, "does not exist"},
		{"duplicate axis sweep and zip", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[[sweep.zip]]\n\"train.loops\" = [4, 8]\n\"train.steps\" = [10, 20]\n", "sweep.zip[0].train.loops", 5, "swept twice (also at"},
		{"duplicate axis in two zips", "name = \"t\"\n[[sweep.zip]]\n\"train.loops\" = [1, 2]\n[[sweep.zip]]\n\"train.loops\" = [4, 8]\n", "sweep.zip[1].train.loops", 5, "swept twice"},
		{"too many runs", "name = \"t\"\n[sweep]\n\"task.train\" = [" + intList(1, 101) + "]\n\"task.test\" = [" + intList(1, 101) + "]\n", "sweep", 0, "more than 10000 runs"},
		{"extends missing", "name = \"t\"\nextends = \"nope.toml\"\n", "extends", 2, "cannot read base grid"},
		{"extends not a string", "name = \"t\"\nextends = 1\n", "extends", 2, "must be a string"},
		{"claim unknown field", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"train.loops\"\nmargin = 3\n", "expect[0].margin", 7, "unknown claim field"},
		{"claim unknown metric", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_acc\"\nincreases_with = \"train.loops\"\n", "expect[0].metric", 5, `did you mean "exact_accuracy"?`},
		{"claim without a test", "name = \"t\"\n[[expect]]\nmetric = \"exact_accuracy\"\n", "expect[0]", 2, "exactly one of increases_with, within, greater"},
		{"claim with two tests", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"train.loops\"\ngreater = {a = \"train.loops=2\", b = \"train.loops=1\"}\n", "expect[0]", 4, "exactly one of"},
		{"claim trend over unswept key", "name = \"t\"\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"train.loops\"\n", "expect[0].increases_with", 4, "takes only the value 4"},
		{"claim trend over unknown key", "name = \"t\"\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"train.loop\"\n", "expect[0].increases_with", 4, "unknown key"},
		{"claim trend over a string key", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"hrm\"]\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"model.core\"\n", "expect[0].increases_with", 6, "numeric key"},
		{"claim inference loops need two", "name = \"t\"\n[eval]\nloops = 1\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"eval.loops\"\n", "expect[0].increases_with", 6, "needs eval.loops ≥ 2"},
		{"claim at with eval.loops trend", "name = \"t\"\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"eval.loops\"\nat = 4\n", "expect[0].at", 5, "does not apply"},
		{"claim at beyond eval loops", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"train.loops\"\nat = 17\n", "expect[0].at", 7, "exceeds eval.loops = 16"},
		{"claim at zero", "name = \"t\"\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"eval.loops\"\nat = 0\n", "expect[0].at", 5, "≥ 1"},
		{"claim selector value absent", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\nwithin = {a = \"model.core=hrm\", b = \"model.core=transformer\", delta = 0.05}\n", "expect[0].within.a", 6, `model.core = "hrm" occurs in no run of the grid (model.core takes "trm", "transformer")`},
		{"claim selector unknown key", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\ngreater = {a = \"model.kore=trm\", b = \"model.core=transformer\"}\n", "expect[0].greater.a", 6, "unknown key"},
		{"claim selector bad syntax", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\n\n[expect.greater]\na = \"model.core=trm\"\nb = \"transformer\"\n", "expect[0].greater.b", 9, "want key=value"},
		{"claim selector wrong type", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_accuracy\"\ngreater = {a = \"train.loops=two\", b = \"train.loops=1\"}\n", "expect[0].greater.a", 6, "must be an integer"},
		{"claim selectors overlap", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_accuracy\"\ngreater = {a = \"train.loops=2\", b = \"model.core=trm\"}\n", "expect[0].greater", 7, "both select run"},
		{"claim where matches nothing", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n\"train.loops\" = [1, 2]\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"train.loops\"\nwhere = \"model.core=hrm\"\n", "expect[0].where", 8, "occurs in no run"},
		{"claim delta not positive", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\nwithin = {a = \"model.core=trm\", b = \"model.core=transformer\", delta = 0}\n", "expect[0].within.delta", 6, "greater than 0"},
		{"claim negative margin", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\ngreater = {a = \"model.core=trm\", b = \"model.core=transformer\", margin = -1}\n", "expect[0].greater.margin", 6, "≥ 0"},
		{"claim within unknown field", "name = \"t\"\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\nwithin = {a = \"model.core=trm\", b = \"model.core=transformer\", margin = 1}\n", "expect[0].within.margin", 6, "unknown field"},
		{"claims as plain table", "name = \"t\"\n[expect]\nmetric = \"exact_accuracy\"\n", "expect", 2, "write [[expect]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeGrid(t, t.TempDir(), "grid.toml", tt.toml)
			g, err := Load(path, nil)
			if err == nil {
				t.Fatalf("Load = %+v, nil; want an error for %s", g, tt.key)
			}
			es := fieldErrors(t, err)
			e := findError(es, tt.key, tt.rule)
			if e == nil {
				t.Fatalf("errors:\n%v\nwant one for key %q containing %q", err, tt.key, tt.rule)
			}
			if e.File != path || e.Line != tt.line {
				t.Fatalf("error %q at %s:%d, want %s:%d", e, e.File, e.Line, path, tt.line)
			}
			prefix := path + ":"
			if tt.line > 0 {
				prefix = fmt.Sprintf("%s:%d: ", path, tt.line)
			}
			if msg := e.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.key) {
				t.Fatalf("message %q does not start with %q and name %q", msg, prefix, tt.key)
			}
		})
	}
}

func intList(from, to int) string {
	parts := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		parts = append(parts, fmt.Sprint(i))
	}
	return strings.Join(parts, ", ")
}

// TestLoadCollectsAllErrors checks that one pass reports every problem,
// one per line, in file order.
func TestLoadCollectsAllErrors(t *testing.T) {
	path := writeGrid(t, t.TempDir(), "grid.toml", `name = "t"
seeds = [1, 1]
[model]
core = "rnn"
hiden = 64
[train]
loops = 0
[sweep]
"eval.loops" = []
`)
	_, err := Load(path, []string{"train.stepz=3"})
	es := fieldErrors(t, err)
	want := []string{
		path + `:2: seeds[1] = 1: seed 1 is listed twice`,
		path + `:4: model.core = "rnn": must be one of`,
		path + `:5: model.hiden = 64: unknown key (did you mean "model.hidden"?)`,
		path + `:7: train.loops = 0: must be at least 1`,
		path + `:9: sweep.eval.loops = []: empty axis`,
		"--set train.stepz=3: train.stepz = 3: unknown key",
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors:\n%v\nwant %d", len(es), err, len(want))
	}
	lines := strings.Split(err.Error(), "\n")
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Fatalf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.toml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(absent) = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadExample(t *testing.T) {
	g, err := Load("../ablations/example.toml", nil)
	if err != nil {
		t.Fatalf("Load(example.toml): %v", err)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(runs), 8; got != want {
		t.Fatalf("example.toml expands to %d runs, want %d", got, want)
	}
	if got, want := strings.Join(Varying(runs), " "), "model.core seed train.loops"; got != want {
		t.Fatalf("Varying = %q, want %q", got, want)
	}
	if got := len(g.Expect); got != 1 || g.Expect[0].IncreasesWith != "train.loops" {
		t.Fatalf("Expect = %+v, want one increases_with train.loops claim", g.Expect)
	}
}

func TestLoadFull(t *testing.T) {
	g, err := Load("testdata/full.toml", nil)
	if err != nil {
		t.Fatalf("Load(testdata/full.toml): %v", err)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// model.core (base) × train.loops × the zip group × 3 seeds (base).
	if got, want := len(runs), 2*3*2*3; got != want {
		t.Fatalf("len(runs) = %d, want %d", got, want)
	}
	if g.Title != "Shared 4×4 Sudoku setting" || g.Name != "full" || len(g.Expect) != 3 {
		t.Fatalf("grid %q %q with %d claims, want full / the base's title / 3 claims", g.Name, g.Title, len(g.Expect))
	}
	want := []string{"model.core", "model.h_cycles", "seed", "train.loops", "train.steps"}
	if got := Varying(runs); !slices.Equal(got, want) {
		t.Fatalf("Varying = %v, want %v", got, want)
	}
	for _, r := range runs {
		if r.Task.Train != 2000 || r.Train.Warmup != 50 || r.Eval.Loops != 8 {
			t.Fatalf("run %+v lost a base or grid value", r)
		}
		if (r.Model.HCycles == 3) != (r.Train.Steps == 400) {
			t.Fatalf("run has h_cycles %d with steps %d: the zip is not linked", r.Model.HCycles, r.Train.Steps)
		}
	}
}
