"""Checks that peer.py is the training step outerloop runs: parameter counts
outerloop reported, the optimiser rules of train/adam.go, the loss of
train/loss.go and the gradient cut of models/model.go.

    python -m unittest bench/peer/test_peer.py   (with the peer venv's python)
"""

import math
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

MODEL = {"core": "trm", "hidden": 64, "heads": 4, "expansion": 4, "layers": 2, "h_layers": 1, "l_layers": 1,
         "h_cycles": 2, "l_cycles": 2, "depth": 4, "mixer": "attention", "pos": "rope", "puzzle_emb_len": 0,
         "act": False, "ponder_cost": 0.01}
TRAIN = {"loops": 4, "batch": 8, "lr": 3e-4, "beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1,
         "optimizer": "adamw", "puzzle_emb_lr": 0.01, "puzzle_emb_weight_decay": 0.1, "grad_clip": 1,
         "ema": False, "ema_rate": 0.999, "loss": "stablemax", "halting": "bce", "exploration": 0.1,
         "gradient": "last-cycle", "schedule": "same-batch", "precision": "fp32"}

# The workloads of train/peer_bench_test.go with the counts outerloop wrote
# for them: (model overrides, vocab, seq_len, params).
WORKLOADS = {
    "transformer-d64-sudoku4": ({"core": "transformer"}, 6, 16, 131970),
    "trm-d64-sudoku4": ({}, 6, 16, 131970),
    "trm-mlp-d64-sudoku4": ({"mixer": "mlp"}, 6, 16, 123778),
    "hrm-d64-sudoku4": ({"core": "hrm"}, 6, 16, 131970),
    "trm-att-paper-sudoku9": ({"hidden": 512, "heads": 8, "h_cycles": 3, "l_cycles": 6, "puzzle_emb_len": 16},
                              11, 81, 6828034),
}


def spec(model=None, train=None):
    return {"seed": 0, "model": dict(MODEL, **(model or {})), "train": dict(TRAIN, **(train or {}))}


def trainer(model=None, train=None, vocab=6, seq_len=16):
    return peer.Trainer(spec(model, train), vocab, seq_len, torch.device("cpu"), compile_model=False)


class ParamCount(unittest.TestCase):
    def test_matches_outerloop(self):
        for name, (model, vocab, seq_len, want) in WORKLOADS.items():
            with self.subTest(name):
                self.assertEqual(trainer(model, vocab=vocab, seq_len=seq_len).count(), want)

    def test_learned_positions_count(self):
        base = trainer().count()
        self.assertEqual(trainer({"pos": "learned"}).count(), base + 16 * 64)


class Step(unittest.TestCase):
    def test_every_setting_trains(self):
        for model, train in [({}, {}), ({"core": "hrm"}, {"halting": "q"}), ({"core": "transformer"}, {"halting": "off"}),
                             ({"mixer": "mlp", "pos": "none"}, {"loss": "softmax", "optimizer": "adam-atan2"}),
                             ({"puzzle_emb_len": 4, "pos": "learned"}, {"schedule": "carry", "ema": True}),
                             ({}, {"gradient": "full"}), ({"core": "hrm"}, {"gradient": "one-step", "grad_clip": 0})]:
            with self.subTest(model=model, train=train):
                t = trainer(model, train)
                for _ in range(5):
                    st = t.step()
                self.assertTrue(math.isfinite(st["loss"]), st)

    def test_same_batch_lasts_loops_segments(self):
        t = trainer(train={"exploration": 0})
        seen = []
        for _ in range(9):
            t.step()
            seen.append(t.batch_seg)
        self.assertEqual(seen, [1, 2, 3, 4, 1, 2, 3, 4, 1])

    def test_bf16_keeps_states_in_bf16(self):
        t = trainer(train={"precision": "bf16"})
        st = t.step()
        self.assertTrue(math.isfinite(st["loss"]))
        self.assertEqual({s.dtype for s in t.carry}, {torch.bfloat16})
        self.assertEqual({p.dtype for p in t.params}, {torch.float32})

    def test_puzzle_rows_get_sign_sgd(self):
        t = trainer({"puzzle_emb_len": 2})
        t.step()
        row = t.puzzle.table[0]
        self.assertTrue(torch.allclose(row.abs(), torch.full_like(row, 0.01)), row)

    def test_unknown_value_is_refused(self):
        with self.assertRaisesRegex(peer.Unsupported, "model.core"):
            trainer({"core": "ut"})
        with self.assertRaisesRegex(peer.Unsupported, "train.gradient"):
            trainer(train={"gradient": "sometimes"})


class GradientCut(unittest.TestCase):
    """Only the calls outerloop differentiates build a graph."""

    def calls_with_grad(self, model, gradient):
        t = trainer(model, {"gradient": gradient})
        flags = []
        stacks = [m for m in t.model.modules() if isinstance(m, peer.Stack)]
        hooks = [s.register_forward_hook(lambda _m, _i, out: flags.append(out.requires_grad)) for s in stacks]
        t.step()
        for h in hooks:
            h.remove()
        return flags

    def test_cut(self):
        for model, gradient, want in [
            ({}, "last-cycle", [False] * 3 + [True] * 3),
            ({}, "one-step", [False] * 4 + [True] * 2),
            ({}, "full", [True] * 6),
            ({"core": "hrm", "h_cycles": 3, "l_cycles": 1}, "last-cycle", [False] * 4 + [True] * 2),
            ({"core": "transformer"}, "last-cycle", [True]),
        ]:
            with self.subTest(model=model, gradient=gradient):
                self.assertEqual(self.calls_with_grad(model, gradient), want)


class Optimiser(unittest.TestCase):
    """Both rules against train/adam.go's update written out."""

    def reference(self, rule, p, grads, lr=1e-2, b1=0.9, b2=0.95, wd=0.1):
        m, v = torch.zeros_like(p), torch.zeros_like(p)
        for t, g in enumerate(grads, 1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            d = v.sqrt() / math.sqrt(1 - b2 ** t)
            u = m / (d + 1e-8) if rule == "adamw" else torch.atan2(m, d)
            p = p * (1 - lr * wd) - lr / (1 - b1 ** t) * u
        return p

    def test_rules(self):
        gen = torch.Generator().manual_seed(1)
        start = torch.randn(5, 3, generator=gen, dtype=torch.float64)
        grads = [torch.randn(5, 3, generator=gen, dtype=torch.float64) for _ in range(4)]
        for rule in peer.OPTIMIZERS:
            with self.subTest(rule):
                p = torch.nn.Parameter(start.clone())
                opt = peer.make_optimizer([p], dict(TRAIN, optimizer=rule, lr=1e-2))
                for g in grads:
                    p.grad = g.clone()
                    opt.step()
                torch.testing.assert_close(p.detach(), self.reference(rule, start, grads))


class Loss(unittest.TestCase):
    def test_stablemax(self):
        x = torch.tensor([[-2.0, 0.0, 1.0, 3.0]], requires_grad=True)
        s = torch.tensor([1 / 3, 1.0, 2.0, 4.0], dtype=torch.float64)
        torch.testing.assert_close(peer.stablemax_log_probs(x)[0], (s / s.sum()).log())
        peer.stablemax_log_probs(x).sum().backward()
        self.assertTrue(torch.isfinite(x.grad).all())

    def test_token_loss_is_mean_of_sample_means(self):
        logits = torch.randn(2, 3, 4)
        labels = torch.tensor([[1, 2, peer.IGNORE_LABEL], [0, 3, 3]])
        logp = peer.stablemax_log_probs(logits)
        first = -(logp[0, 0, 1] + logp[0, 1, 2]) / 2
        second = -(logp[1, 0, 0] + logp[1, 1, 3] + logp[1, 2, 3]) / 3
        torch.testing.assert_close(peer.token_loss("stablemax", logits, labels), ((first + second) / 2).float())


class Init(unittest.TestCase):
    def test_trunc_normal_std_and_bounds(self):
        x = peer.trunc_normal((200000,), 0.5, torch.Generator().manual_seed(0))
        self.assertAlmostEqual(x.std().item(), 0.5, delta=0.005)
        self.assertLess(x.abs().max().item(), 2 * 0.5 / 0.87)


if __name__ == "__main__":
    unittest.main()
