#!/usr/bin/env python3
"""outerloop's training step written again in PyTorch, to time against it.

bench/peer/run.py runs outerloop's BenchmarkPeer (train/peer_bench_test.go),
which writes the resolved RunSpec and outerloop's parameter count to a JSON
file, and then this script on the same file, in PyTorch eager and under
torch.compile. For the comparison to be fair this file mirrors outerloop's
models package and trainer, not the papers' code:

  models/layers.go       linears, RMSNorm, SwiGLU, RoPE, attention, TRM's
                         token MLP, post-norm blocks and stacks
  models/trm.go, hrm.go, transformer.go
                         the cores and their no-grad / grad call cut
  models/model.go        embedding, puzzle prefix, heads, carry reset
  models/params.go       the truncated-normal initialisation
  models/puzzle.go       the puzzle embedding and its sign-SGD
  train/step.go          engine.trainStep: one segment, losses, backward,
                         clip, update, halting, carry detach
  train/loss.go          stable-max / softmax token loss, halting BCE
  train/adam.go, optim.go
                         AdamW / Adam-atan2, gradient clipping, EMA

One timed step is one engine.trainStep. Inputs are random tokens: only the
time is measured. The parameter count must equal outerloop's (exit 3
otherwise); a configuration value not implemented here exits 2.

    python peer.py --spec SPEC.json --mode eager|compile --threads N
                   [--steps S] [--warmup W] [--device cpu|cuda] [--name NAME]

prints one line on stdout:

    peer-pytorch workload=NAME mode=MODE threads=N ms_per_step=X peak_rss_mb=Y params=P
"""

import argparse
import json
import math
import os
import random
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

CORES = ("trm", "hrm", "transformer")
MIXERS = ("attention", "mlp")
POSITIONS = ("rope", "learned", "none")
LOSSES = ("stablemax", "softmax")
HALTINGS = ("bce", "q", "off")
GRADIENTS = ("last-cycle", "one-step", "full")
SCHEDULES = ("same-batch", "carry")
OPTIMIZERS = ("adamw", "adam-atan2")
PRECISIONS = ("fp32", "bf16")

IGNORE_LABEL = -100  # tasks/dataset.go IgnoreLabel


class Unsupported(Exception):
    """A spec value this file does not implement (exit 2)."""

    def __init__(self, field, value):
        super().__init__(f"peer.py: {field} = {value!r} is not implemented here")


def check_spec(model, train):
    """Refuses, naming the field, every value the step below would not mirror."""
    for field, value, known in (
        ("model.core", model["core"], CORES),
        ("model.mixer", model["mixer"], MIXERS),
        ("model.pos", model["pos"], POSITIONS),
        ("train.loss", train["loss"], LOSSES),
        ("train.halting", train["halting"], HALTINGS),
        ("train.gradient", train["gradient"], GRADIENTS),
        ("train.schedule", train["schedule"], SCHEDULES),
        ("train.optimizer", train["optimizer"], OPTIMIZERS),
        ("train.precision", train["precision"], PRECISIONS),
    ):
        if value not in known:
            raise Unsupported(field, value)
    if model.get("act"):
        raise Unsupported("model.act", model["act"])


# ---------------------------------------------------------------- layers


def trunc_normal(shape, std, gen):
    """JAX-style truncated normal on [-2σ', 2σ'] whose std is std, by inverse
    CDF (models/params.go truncNormal; torch's trunc_normal_ spreads less)."""
    if std == 0:
        return torch.zeros(shape)
    lower, upper = -2.0, 2.0
    a, b = math.erf(lower / math.sqrt(2)), math.erf(upper / math.sqrt(2))
    z = (b - a) / 2
    c = 1 / math.sqrt(2 * math.pi)
    pdf_u, pdf_l = c * math.exp(-0.5 * lower * lower), c * math.exp(-0.5 * upper * upper)
    comp_std = std / math.sqrt(1 - (upper * pdf_u - lower * pdf_l) / z - ((pdf_u - pdf_l) / z) ** 2)
    u = torch.rand(shape, dtype=torch.float64, generator=gen)
    x = math.sqrt(2) * comp_std * torch.erfinv(a + (b - a) * u)
    return x.clamp(lower * comp_std, upper * comp_std).float()


def make_linear(inp, out, gen, bias=False):
    """Linear with LeCun-normal weights, std 1/√in (models/layers.go newLinear)."""
    lin = nn.Linear(inp, out, bias=bias)
    with torch.no_grad():
        lin.weight.copy_(trunc_normal((out, inp), 1 / math.sqrt(inp), gen))
        if bias:
            lin.bias.zero_()
    return lin


def rms_norm(x, eps):
    """Unit RMS over the last axis, no learned scale; float32 under bf16."""
    if x.dtype not in (torch.float32, torch.float64):
        return rms_norm(x.float(), eps).to(x.dtype)
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)


def swiglu_width(d, expansion):
    """round(expansion·d·2/3) rounded up to a multiple of 256."""
    w = int(round(expansion * d * 2 / 3))
    return (w + 255) // 256 * 256


class SwiGLU(nn.Module):
    def __init__(self, d, expansion, gen):
        super().__init__()
        self.width = swiglu_width(d, expansion)
        # gate and up fused in one matrix, as outerloop does.
        self.gate_up = make_linear(d, 2 * self.width, gen)
        self.down = make_linear(self.width, d, gen)

    def forward(self, x):
        gate, up = self.gate_up(x).split(self.width, dim=-1)
        return self.down(up * F.silu(gate))


class RoPE(nn.Module):
    """Rotary tables for positions 0..seq-1, θ = 10000. Under bf16 the tables
    are kept in bf16 too, so q and k stay in the compute dtype."""

    def __init__(self, seq, head_dim, dtype):
        super().__init__()
        self.half = head_dim // 2
        inv = 1 / torch.pow(10000.0, torch.arange(self.half, dtype=torch.float64) * 2 / head_dim)
        ang = torch.arange(seq, dtype=torch.float64)[:, None] * inv[None, :]
        ang = torch.cat([ang, ang], dim=-1)
        self.register_buffer("cos", ang.cos().float().to(dtype))
        self.register_buffer("sin", ang.sin().float().to(dtype))

    def forward(self, x):  # (B, H, L, hd)
        x1, x2 = x[..., : self.half], x[..., self.half :]
        return x * self.cos + torch.cat([-x2, x1], dim=-1) * self.sin


class Attention(nn.Module):
    """Bidirectional multi-head self-attention, head width hidden//heads."""

    def __init__(self, d, heads, rope, gen):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.qkv = make_linear(d, 3 * heads * self.head_dim, gen)
        self.o = make_linear(heads * self.head_dim, d, gen)
        self.rope = rope

    def forward(self, x):
        b, l, _ = x.shape
        q, k, v = self.qkv(x).view(b, l, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if self.rope is not None:
            q, k = self.rope(q), self.rope(k)
        # No mask: outerloop passes an all-true one only because gotch cannot
        # express "none"; the result is the same.
        o = F.scaled_dot_product_attention(q, k, v)
        return self.o(o.transpose(1, 2).reshape(b, l, self.heads * self.head_dim))


class TokenMLP(SwiGLU):
    """TRM's mixer for small grids: a SwiGLU across the sequence axis, with
    its own post-norm, which also runs over the sequence axis."""

    def __init__(self, seq, expansion, eps, gen):
        super().__init__(seq, expansion, gen)
        self.eps = eps

    def forward(self, x):  # (B, L, D) → normalised (B, L, D)
        xt = x.transpose(1, 2)
        return rms_norm(xt + super().forward(xt), self.eps).transpose(1, 2)


class Block(nn.Module):
    """Post-norm block: h = norm(h + mix(h)); h = norm(h + mlp(h))."""

    def __init__(self, shape, rope, gen):
        super().__init__()
        self.eps = shape["eps"]
        self.mlp = SwiGLU(shape["hidden"], shape["expansion"], gen)
        if shape["mixer"] == "mlp":
            self.mlp_t = TokenMLP(shape["seq"], shape["expansion"], self.eps, gen)
        else:
            self.attn = Attention(shape["hidden"], shape["heads"], rope, gen)

    def forward(self, x):
        if hasattr(self, "mlp_t"):
            h = self.mlp_t(x)
        else:
            h = rms_norm(x + self.attn(x), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class Stack(nn.ModuleList):
    """Blocks run on hidden + injection (HRM's input injection)."""

    def __init__(self, layers, shape, rope, gen):
        super().__init__(Block(shape, rope, gen) for _ in range(layers))

    def forward(self, hidden, injection=None):
        h = hidden if injection is None else hidden + injection
        for block in self:
            h = block(h)
        return h


# ----------------------------------------------------------------- cores


class CallCut:
    """The gradient-mode cut every core shares (models/model.go runCalls):
    a segment's leading calls run without gradient."""

    def __init__(self, total, differentiated):
        self.no_grad_left = total - differentiated

    def __call__(self, fn, *args):
        if self.no_grad_left > 0:
            self.no_grad_left -= 1
            with torch.no_grad():
                return fn(*args)
        return fn(*args)


def cycle_calls(outer, inner, gradient):
    """(total, differentiated) calls of TRM's and HRM's segment."""
    total = outer * (inner + 1)
    return total, {"full": total, "one-step": min(2, total), "last-cycle": inner + 1}[gradient]


class Recursion(nn.Module):
    """low ← L(low, high + x) inner times, then high ← H(high, low); outer
    cycles. HRM has two nets; TRM is the same loop with one net f for both
    (z is low, y is high)."""

    def __init__(self, high, low, outer, inner, shape, gen):
        super().__init__()
        self.H, self.L = high, low
        d = shape["hidden"]
        self.register_buffer("high_init", trunc_normal((1, 1, d), 1, gen))
        self.register_buffer("low_init", trunc_normal((1, 1, d), 1, gen))
        self.outer, self.inner = outer, inner

    def init_states(self):
        return (self.high_init, self.low_init)

    def calls(self, gradient):
        return cycle_calls(self.outer, self.inner, gradient)

    def refine(self, states, x, gradient):
        run = CallCut(*self.calls(gradient))
        high, low = states
        for _ in range(self.outer):
            for _ in range(self.inner):
                low = run(lambda: self.L(low, high + x))
            high = run(lambda: self.H(high, low))
        return (high, low)


def TRM(model, shape, rope, gen):
    """One net f: z ← f(z, y + x) n times, then y ← f(y, z); T cycles."""
    f = Stack(model["layers"], shape, rope, gen)
    return Recursion(f, f, model["h_cycles"], model["l_cycles"], shape, gen)


def HRM(model, shape, rope, gen):
    """z_L ← L(z_L, z_H + x) l_cycles times, then z_H ← H(z_H, z_L)."""
    high = Stack(model["h_layers"], shape, rope, gen)
    low = Stack(model["l_layers"], shape, rope, gen)
    return Recursion(high, low, model["h_cycles"], model["l_cycles"], shape, gen)


class Transformer(nn.Module):
    """The flat baseline: z ← stack(z + x), one differentiated call."""

    def __init__(self, model, shape, rope, gen):
        super().__init__()
        self.stack = Stack(model["layers"], shape, rope, gen)
        self.register_buffer("z_init", trunc_normal((1, 1, shape["hidden"]), 1, gen))

    def init_states(self):
        return (self.z_init,)

    # A single call is every gradient mode's tail: no cut.
    def refine(self, states, x, gradient):
        return (self.stack(states[0], x),)


# ----------------------------------------------------------------- model


class Model(nn.Module):
    """Embedding (+ puzzle prefix, + learned positions), a core, the output
    head over the vocabulary and the halting head (models/model.go)."""

    def __init__(self, model, train, vocab, seq_len, device_type, gen):
        super().__init__()
        d = model["hidden"]
        self.hidden, self.prefix = d, model["puzzle_emb_len"]
        self.seq = seq_len + self.prefix
        self.gradient = train["gradient"]
        self.bf16 = train["precision"] == "bf16"
        self.dtype = torch.bfloat16 if self.bf16 else torch.float32
        self.device_type = device_type
        # std 1/√D, scaled by √D in forward (HRM embed_scale).
        self.embed_tokens = nn.Parameter(trunc_normal((vocab, d), 1 / math.sqrt(d), gen))
        if model["pos"] == "learned":
            self.embed_pos = nn.Parameter(trunc_normal((self.seq, d), 1 / math.sqrt(d), gen))
        rope = None
        if model["pos"] == "rope" and model["mixer"] == "attention":
            rope = RoPE(self.seq, d // model["heads"], self.dtype)
        shape = {"hidden": d, "heads": model["heads"], "expansion": model["expansion"],
                 "seq": self.seq, "mixer": model["mixer"], "eps": 1e-5}
        self.core = {"trm": TRM, "hrm": HRM, "transformer": Transformer}[model["core"]](model, shape, rope, gen)
        self.lm_head = make_linear(d, vocab, gen)
        # Zero weights and bias −5: Q starts near 0 (HRM q_head).
        self.q_head = nn.Linear(d, 2)
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5)

    def init_carry(self, batch):
        return tuple(s.expand(batch, self.seq, self.hidden).to(self.dtype).contiguous()
                     for s in self.core.init_states())

    def reset(self, carry, mask):
        """Samples where mask is true go back to the initial state."""
        m = mask.view(-1, 1, 1)
        return tuple(torch.where(m, s, c).to(self.dtype) for s, c in zip(self.core.init_states(), carry))

    def embed_input(self, tokens, rows):
        """x = √D · [puzzle prefix; tokens] (+ positions), summed in float32."""
        x = F.embedding(tokens, self.embed_tokens)
        if self.prefix > 0:
            b = x.shape[0]
            first = rows.view(b, 1, self.hidden) if rows is not None else x.new_zeros(b, 1, self.hidden)
            x = torch.cat([first, x.new_zeros(b, self.prefix - 1, self.hidden), x], dim=1)
        if hasattr(self, "embed_pos"):
            x = (x + self.embed_pos) * (1 / math.sqrt(2))
        return (x * math.sqrt(self.hidden)).to(self.dtype)

    def forward(self, carry, tokens, rows):
        """One segment: returns the new states (attached) and the heads."""
        # autocast does what outerloop's linears do under bf16: weights cast
        # to bf16 for the matmul, parameters and their gradients float32.
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
            states = self.core.refine(carry, self.embed_input(tokens, rows), self.gradient)
            a = states[0]  # TRM's y, HRM's z_H, the transformer's z
            logits = self.lm_head(a[:, self.prefix :])
            q = self.q_head(a[:, 0]).float()  # halting logits in float32
        return states, logits, q[:, 0], q[:, 1]


# ---------------------------------------------------------------- losses


def stablemax_log_probs(logits):
    """log s(x_i)/Σ s(x_j), s(x) = x+1 (x ≥ 0), 1/(1−x) (x < 0), in float64."""
    x = logits.double()
    # Clamp first: where() would not pick 1/(1−x) at x = 1, but its
    # backward would multiply 0 by ∞.
    s = torch.where(x >= 0, x + 1, 1 / (1 - x.clamp(max=0)))
    return (s / s.sum(-1, keepdim=True)).log()


def token_loss(kind, logits, labels):
    """Per-sample mean cross-entropy over labelled cells, mean over samples."""
    if kind == "softmax":
        logp = logits.log_softmax(-1, dtype=torch.float32)
    else:
        logp = stablemax_log_probs(logits)
    valid = labels != IGNORE_LABEL
    picked = logp.gather(-1, labels.where(valid, 0).unsqueeze(-1)).squeeze(-1)
    valid_f = valid.to(picked.dtype)
    nll = (-picked * valid_f).sum(-1)
    return (nll / valid_f.sum(-1).clamp(min=1)).mean(dtype=torch.float32)


def correctness(logits, labels):
    """Which samples are fully right, right labelled cells, labelled cells."""
    valid = labels != IGNORE_LABEL
    hit = (logits.argmax(-1) == labels) & valid
    n_hit, n_valid = hit.sum(-1), valid.sum(-1)
    return n_hit == n_valid, n_hit, n_valid


class SegmentLoss(nn.Module):
    """The part of trainStep torch.compile gets: the segment, the token loss,
    the correctness it needs and the halting BCE."""

    def __init__(self, model, loss, halting):
        super().__init__()
        self.model, self.loss, self.halting = model, loss, halting

    def forward(self, carry, tokens, labels, rows):
        states, logits, q_halt, q_cont = self.model(carry, tokens, rows)
        lm = token_loss(self.loss, logits, labels)
        with torch.no_grad():
            seq, n_hit, n_valid = correctness(logits, labels)
            correct = seq.float()
        # The halt target is "the answer is fully correct" (HRM/TRM).
        halt = F.binary_cross_entropy_with_logits(q_halt, correct) if self.halting != "off" else None
        return states, q_halt, q_cont, lm, halt, correct, n_hit, n_valid


# ------------------------------------------------------------- optimiser


class AdamATan2(torch.optim.Optimizer):
    """train/adam.go's adam-atan2 rule, which PyTorch lacks: Adam moments,
    decoupled decay, update atan2(m, √v̂) with no ε."""

    def __init__(self, params, lr, betas, weight_decay):
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                st["m"].lerp_(p.grad, 1 - b1)
                st["v"].lerp_(p.grad.square(), 1 - b2)
                d = st["v"].sqrt() / math.sqrt(1 - b2 ** t)
                p.mul_(1 - lr * wd)
                p.sub_(torch.atan2(st["m"], d) * (lr / (1 - b1 ** t)))


def make_optimizer(params, train):
    betas = (train["beta1"], train["beta2"])
    if train["optimizer"] == "adamw":
        # torch's AdamW is exactly train/adam.go's adamw: decay p·(1 − lr·wd),
        # then lr/(1−β1^t) · m / (√v/√(1−β2^t) + 1e-8).
        return torch.optim.AdamW(params, lr=train["lr"], betas=betas, eps=1e-8, weight_decay=train["weight_decay"])
    return AdamATan2(params, lr=train["lr"], betas=betas, weight_decay=train["weight_decay"])


class PuzzleEmbedding:
    """The per-puzzle prefix table: a buffer kept on the host, trained by
    sign-SGD with decoupled decay on the batch's rows (models/puzzle.go)."""

    def __init__(self, rows, d):
        self.table = torch.zeros(rows, d)
        self.ids = self.batch = None

    def rows(self, ids, device):
        self.ids = ids
        self.batch = self.table.index_select(0, ids).to(device).requires_grad_()
        return self.batch

    @torch.no_grad()
    def step(self, lr, weight_decay):
        if self.batch.grad is None:
            return
        unique, inverse = torch.unique(self.ids, return_inverse=True)
        g = torch.zeros(len(unique), self.table.shape[1]).index_add_(0, inverse, self.batch.grad.cpu())
        cur = self.table.index_select(0, unique) * (1 - lr * weight_decay)
        self.table.index_copy_(0, unique, cur - lr * g.sign())
        self.batch = None


# --------------------------------------------------------------- trainer


class Trainer:
    """engine.trainStep's state: the model, optimiser, puzzle table, EMA and
    the batch in flight with its carried, detached states."""

    def __init__(self, spec, vocab, seq_len, device, compile_model):
        self.model_cfg, self.train = spec["model"], spec["train"]
        check_spec(self.model_cfg, self.train)
        seed = spec.get("seed", 0)
        gen = torch.Generator().manual_seed(seed)
        self.device, self.vocab = device, vocab
        self.model = Model(self.model_cfg, self.train, vocab, seq_len, device.type, gen).to(device)
        self.params = list(self.model.parameters())
        self.opt = make_optimizer(self.params, self.train)
        self.ema = [p.detach().clone() for p in self.params] if self.train["ema"] else None
        # Sudoku and Maze have one puzzle id (tasks/dataset.go); ARC's row
        # count is not in the spec, and a step only touches the batch's rows.
        self.puzzle = PuzzleEmbedding(1, self.model_cfg["hidden"]) if self.model_cfg["puzzle_emb_len"] > 0 else None
        self.forward = SegmentLoss(self.model, self.train["loss"], self.train["halting"])
        self.segment = self.model
        if compile_model:
            self.forward = torch.compile(self.forward)
            self.segment = torch.compile(self.model)

        self.rng = random.Random(seed)
        self.data_gen = torch.Generator().manual_seed(seed + 1)
        b = self.B = self.train["batch"]
        self.L = seq_len
        self.inputs = torch.zeros(b, seq_len, dtype=torch.long)
        self.labels = torch.zeros(b, seq_len, dtype=torch.long)
        self.pids = torch.zeros(b, dtype=torch.long)
        self.segments = [0] * b
        self.halted = [True] * b  # every slot starts empty
        self.batch_seg = self.min_seg = 0
        self.carry = self.model.init_carry(b)

    def count(self):
        return sum(p.numel() for p in self.params)

    def refill(self):
        """Halted samples (or a finished same-batch batch) get fresh draws
        and their carried state reset."""
        if self.train["schedule"] == "same-batch" and self.batch_seg > 0 and not self.halted[0]:
            return
        drew = [i for i, h in enumerate(self.halted) if h]
        if not drew:
            return
        for i in drew:
            self.inputs[i] = torch.randint(0, self.vocab, (self.L,), generator=self.data_gen)
            self.labels[i] = torch.randint(1, self.vocab, (self.L,), generator=self.data_gen)
            self.segments[i], self.halted[i] = 0, False
        self.batch_seg = 0
        self.min_seg = self.exploration_minimum()
        mask = torch.tensor([s == 0 for s in self.segments], device=self.device)
        self.carry = self.model.reset(self.carry, mask)

    def exploration_minimum(self):
        """With probability `exploration` a draw from {2..loops}, else 1."""
        n = self.train["loops"]
        if n > 1 and self.rng.random() < self.train["exploration"]:
            return 2 + self.rng.randrange(n - 1)
        return 1

    @torch.no_grad()
    def continue_target(self, states, tokens, rows):
        """Q-learning's continue target from one more segment without
        gradient: sigmoid(max(q_halt, q_cont)), or q_halt at the last segment."""
        _, _, q_halt, q_cont = self.segment(tuple(s.detach() for s in states), tokens, rows)
        last = torch.tensor([n >= self.train["loops"] for n in self.segments], device=self.device)
        return torch.where(last, q_halt, torch.maximum(q_halt, q_cont)).sigmoid()

    def decide_halting(self, q_halt, q_cont):
        halting, loops = self.train["halting"], self.train["loops"]
        qh = q_halt.tolist() if halting != "off" else None
        qc = q_cont.tolist() if halting == "q" else None

        def signal(i):
            if halting == "bce":
                return qh[i] > 0
            if halting == "q":
                return qh[i] > qc[i]
            return False

        if self.train["schedule"] == "same-batch":
            # The whole batch moves on when every sample would halt, or at loops.
            done = self.batch_seg >= loops
            if not done and halting != "off" and self.batch_seg >= self.min_seg:
                done = all(signal(i) for i in range(self.B))
            if done:
                self.halted = [True] * self.B
        else:
            for i in range(self.B):
                least = self.exploration_minimum() if halting != "off" else 1
                self.halted[i] = self.segments[i] >= loops or (signal(i) and self.segments[i] >= least)

    def step(self):
        """One engine.trainStep; returns what outerloop reads back per step."""
        cfg = self.train
        self.refill()
        tokens, labels = self.inputs.to(self.device), self.labels.to(self.device)
        rows = self.puzzle.rows(self.pids, self.device) if self.puzzle else None

        self.opt.zero_grad(set_to_none=True)
        states, q_halt, q_cont, lm, halt, correct, n_hit, n_valid = self.forward(self.carry, tokens, labels, rows)
        self.segments = [n + 1 for n in self.segments]
        self.batch_seg += 1

        # The host reads outerloop's step makes for its metrics, kept so both
        # sides synchronise as often.
        st = {"right": n_hit.sum(dtype=torch.float64).item(), "total": n_valid.sum(dtype=torch.float64).item(),
              "exact": correct.mean(dtype=torch.float64).item() * self.B, "lm": lm.item()}
        loss = lm
        if halt is not None:
            st["halt"] = halt.item()
            loss = loss + 0.5 * halt
            if cfg["halting"] == "q":
                cont = F.binary_cross_entropy_with_logits(q_cont, self.continue_target(states, tokens, rows))
                st["cont"] = cont.item()
                loss = loss + 0.5 * cont
        st["loss"] = loss.item()

        loss.backward()
        # grad_clip 0 means no clipping; inf still returns the norm.
        clip = cfg["grad_clip"] if cfg["grad_clip"] > 0 else math.inf
        st["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.params, clip).item()
        self.opt.step()
        if self.puzzle:
            self.puzzle.step(cfg["puzzle_emb_lr"], cfg["puzzle_emb_weight_decay"])
        if self.ema is not None:
            with torch.no_grad():
                for e, p in zip(self.ema, self.params):
                    e.lerp_(p, 1 - cfg["ema_rate"])

        self.decide_halting(q_halt, q_cont)
        self.carry = tuple(s.detach() for s in states)
        return st


# ------------------------------------------------------------------ main


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def time_steps(trainer, device, warmup, steps):
    """Mean ms per step over steps after warmup, and the last step's stats."""
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    for _ in range(warmup):
        trainer.step()
    sync()
    print(f"peer.py: warm-up {warmup} steps in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    start = time.perf_counter()
    for _ in range(steps):
        st = trainer.step()
    sync()
    return 1000 * (time.perf_counter() - start) / steps, st


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True, help="JSON written by BenchmarkPeer")
    ap.add_argument("--mode", choices=("eager", "compile"), required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--steps", type=int, help="timed steps (default 20, 3 for hidden ≥ 512)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (compile: at least 3)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--name", help="workload name (default: from the spec file name)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    with open(args.spec) as f:
        doc = json.load(f)
    spec = doc["spec"]
    name = args.name or os.path.basename(args.spec).removeprefix("peer-").removesuffix(".json")
    steps = args.steps or (3 if spec["model"]["hidden"] >= 512 else 20)
    warmup = max(args.warmup, 3) if args.mode == "compile" else args.warmup
    device = torch.device(args.device)

    try:
        trainer = Trainer(spec, doc["vocab"], doc["seq_len"], device, args.mode == "compile")
    except Unsupported as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    params = trainer.count()
    if params != doc["params"]:
        print(f"peer.py: {params} parameters here, outerloop has {doc['params']}", file=sys.stderr)
        for n, p in trainer.model.named_parameters():
            print(f"  {n:40s} {str(tuple(p.shape)):18s} {p.numel()}", file=sys.stderr)
        sys.exit(3)

    print(f"peer.py: torch {torch.__version__}, {name}, {args.mode}, {args.threads} threads, {device}, "
          f"{warmup} + {steps} steps", file=sys.stderr)
    try:
        ms, st = time_steps(trainer, device, warmup, steps)
        print("peer.py: last step " + " ".join(f"{k}={v:.4g}" for k, v in st.items()), file=sys.stderr)
    except Exception:
        if args.mode != "compile":
            raise
        # A machine without a working compiler still gets its eager number.
        traceback.print_exc()
        ms = math.nan
    print(f"peer-pytorch workload={name} mode={args.mode} threads={args.threads} "
          f"ms_per_step={ms:.3f} peak_rss_mb={peak_rss_mb():.1f} params={params}")


if __name__ == "__main__":
    main()
