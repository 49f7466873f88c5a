#!/usr/bin/python3
"""ember beside PyTorch, whole models, one run: the table of issue 13.

The same three models as bench/bench_models.cpp (read its header for the shapes), built here in
PyTorch (Debian's python3-torch, 1.13, CPU): one training step (forward, cross-entropy, backward,
optimiser step) at batch 32 and length 64, and inference at batch 1 (latency) and 64
(throughput); 1 and 2 threads; fp32 and bf16 (PyTorch: CPU autocast to bfloat16; ember: matrix
products in bf16 with fp32 accumulation).

Like for like: the same dropout (train mode) and optimiser (Adam with weight decay 0, lazy on
the sparse embeddings: torch.optim.SparseAdam for them, AdamW for the rest), sparse embedding
gradients for the bag and the cnn, dense for the transformer.

A fourth case, mlm_pretrain, is one masked-LM pretraining step at issue 14's reference shape
(vocabulary 7450, d 256, 4 layers, ffn 1024, batch 64 × 128 tokens, tied head on 15% of the
positions; AdamW), training only: `--cases mlm_pretrain` runs it alone.

PyTorch runs in its best configuration, in one subprocess per thread count:
OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = threads, torch.set_num_threads,
OMP_WAIT_POLICY=passive (its 2-thread step is slower than its 1-thread step without it), and
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (the development machine forces OpenBLAS's AVX2
kernel through them). ember's side runs the project's own benchmark executable, bench_models.

  cmake --build build/release --target bench_models
  bench/pytorch/compare.py                # the table
  bench/pytorch/compare.py --json         # [{"case", "threads", "precision", "ember_ms", "torch_ms"}]

Needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch).
"""
import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASES = ["bag", "cnn", "transformer", "mlm_pretrain"]
MODES = ["train", "infer_b1", "infer_b64"]
VOCAB, LEN, TRAIN_BATCH = 8000, 64, 32


# ---- the PyTorch side (runs in a subprocess per thread count) ---------------------------------

def torch_worker(threads, precisions, cases, min_time):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(5)

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.bag = nn.EmbeddingBag(VOCAB + (1 << 18), 64, mode="mean", sparse=True)
            self.fc = nn.Linear(64, 2)

        def forward(self, ids):
            b, l = ids.shape
            offsets = torch.arange(0, b * l, l)
            return self.fc(self.bag(ids.reshape(-1), offsets))

    class Cnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, 64, sparse=True)
            self.convs = nn.ModuleList(nn.Conv1d(64, 100, k) for k in (2, 3, 4))
            self.drop = nn.Dropout(0.5)
            self.fc = nn.Linear(300, 2)

        def forward(self, ids):
            x = self.emb(ids).transpose(1, 2)
            pooled = [torch.relu(c(x)).amax(dim=2) for c in self.convs]
            return self.fc(self.drop(torch.cat(pooled, 1)))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, 128)
            layer = nn.TransformerEncoderLayer(128, 4, 512, 0.1, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(128),
                                             enable_nested_tensor=False)
            self.fc = nn.Linear(128, 2)

        def forward(self, ids):
            return self.fc(self.enc(self.emb(ids)).mean(dim=1))

    makers = {"bag": Bag, "cnn": Cnn, "transformer": Transformer}

    # Issue 14's reference shape (bench_models.cpp BM_mlm_step): vocabulary 7450, d 256, 4
    # pre-norm layers, 4 heads, ffn 1024, GELU, dropout 0.1, batch 64 × 128 tokens, 15% of the
    # positions scored by a head tied to the token embedding; AdamW. Train step only.
    MV, MD, ML, MF, MT, MB = 7450, 256, 4, 1024, 128, 64

    class Mlm(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(MV, MD)
            self.pos = nn.Embedding(MT, MD)
            self.drop = nn.Dropout(0.1)
            layer = nn.TransformerEncoderLayer(MD, 4, MF, 0.1, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.enc = nn.TransformerEncoder(layer, ML, norm=nn.LayerNorm(MD),
                                             enable_nested_tensor=False)
            self.head_bias = nn.Parameter(torch.zeros(MV))

        def forward(self, ids, masked):
            x = self.drop(self.tok(ids) + self.pos(torch.arange(MT)))
            h = self.enc(x).reshape(-1, MD).index_select(0, masked)
            return nn.functional.linear(h, self.tok.weight, self.head_bias)

    def mlm_results(precision):
        autocast = precision == "bf16"
        model = Mlm()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        ids = torch.randint(0, MV, (MB, MT))
        m = MB * MT * 15 // 100
        masked = torch.arange(m) * 100 // 15
        targets = torch.randint(0, MV, (m,))

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                loss = nn.functional.cross_entropy(model(ids, masked), targets)
            loss.backward()
            opt.step()

        model.train()
        return {"case": "mlm_pretrain", "mode": "train", "precision": precision, "ms": timed(step)}

    def timed(step):
        for _ in range(3):
            step()
        per_iter = []
        for _ in range(5):  # median of 5 runs, each at least min_time / 5 seconds
            n, start = 0, time.perf_counter()
            while True:
                step()
                n += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_time / 5:
                    break
            per_iter.append(elapsed / n * 1e3)
        return statistics.median(per_iter)

    results = []
    for case in cases:
        for precision in precisions:
            if case == "mlm_pretrain":
                results.append(mlm_results(precision))
                continue
            autocast = precision == "bf16"
            model = makers[case]()
            sparse = [p for n, p in model.named_parameters() if n.startswith(("bag.", "emb.")) and case != "transformer"]
            dense = [p for n, p in model.named_parameters() if not any(p is s for s in sparse)]
            opts = [torch.optim.AdamW(dense, lr=1e-3, weight_decay=0.0)]
            if sparse:
                opts.append(torch.optim.SparseAdam(sparse, lr=1e-3))
            ids = torch.randint(0, VOCAB, (TRAIN_BATCH, LEN))
            labels = torch.randint(0, 2, (TRAIN_BATCH,))
            loss_fn = nn.CrossEntropyLoss()

            def train_step():
                for o in opts:
                    o.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                    loss = loss_fn(model(ids), labels)
                loss.backward()
                for o in opts:
                    o.step()

            model.train()
            results.append({"case": case, "mode": "train", "precision": precision,
                            "ms": timed(train_step)})
            model.eval()
            for batch in (1, 64):
                x = torch.randint(0, VOCAB, (batch, LEN))
                net, note = model, ""

                def infer():
                    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                                enabled=autocast):
                        net(x)

                try:
                    infer()
                except RuntimeError:
                    # PyTorch 1.13's fused encoder-layer inference path fails under CPU autocast
                    # ("expected scalar type BFloat16 but found Float"): run a bf16 copy of the
                    # model instead (bf16 weights and activations).
                    net, note = copy.deepcopy(model).to(torch.bfloat16), "bf16 weights"
                results.append({"case": case, "mode": f"infer_b{batch}", "precision": precision,
                                "ms": timed(infer), "note": note})
    json.dump(results, sys.stdout)


def run_torch(threads, precisions, cases, min_time):
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="passive")
    out = subprocess.run(["/usr/bin/python3", __file__, "--torch-worker", str(threads),
                          "--precisions", *precisions, "--cases", *cases,
                          "--min-time", str(min_time)],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# ---- ember's side ----------------------------------------------------------------------------

def run_ember(build, precisions, cases, threads, min_time):
    exe = os.path.join(build, "bench", "bench_models")
    if not os.path.exists(exe):
        sys.exit(f"compare.py: {exe} not found; build it: cmake --build {build} --target bench_models")
    filt = "models/({})/.*/({})/t({})(/|$)".format("|".join(cases), "|".join(precisions),
                                              "|".join(str(t) for t in threads))
    out = subprocess.run([exe, f"--benchmark_filter={filt}", "--benchmark_format=json",
                          "--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true",
                          f"--benchmark_min_time={min_time / 5}"],
                         check=True, capture_output=True, text=True)
    results = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        # models/<case>/<mode>/<precision>/t<threads>/real_time
        _, case, mode, precision, t = b["run_name"].split("/")[:5]
        scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
        results[(case, mode, precision, int(t[1:]))] = b["real_time"] * scale
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"),
                    help="ember build directory with bench/bench_models")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    ap.add_argument("--min-time", type=float, default=2.0,
                    help="seconds of timing per case and side (split over 5 repetitions)")
    ap.add_argument("--json", action="store_true", help="print a JSON list instead of the table")
    args = ap.parse_args()
    if args.torch_worker:
        torch_worker(args.torch_worker, args.precisions, args.cases, args.min_time)
        return

    ember = run_ember(args.build, args.precisions, args.cases, args.threads, args.min_time)
    rows = []
    for t in args.threads:
        for r in run_torch(t, args.precisions, args.cases, args.min_time):
            key = (r["case"], r["mode"], r["precision"], t)
            rows.append({"case": f'{r["case"]}/{r["mode"]}', "threads": t,
                         "precision": r["precision"], "ember_ms": ember.get(key),
                         "torch_ms": r["ms"], "torch_note": r.get("note", "")})
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return
    print("PyTorch", subprocess.run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"],
                                    capture_output=True, text=True).stdout.strip(),
          "with OMP_WAIT_POLICY=passive, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset")
    print("| case | threads | precision | ember ms | PyTorch ms | PyTorch / ember |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        e, p = r["ember_ms"], r["torch_ms"]
        ratio = f"{p / e:.2f}×" if e else "–"
        es = f"{e:.3f}" if e is not None else "–"
        note = f' ({r["torch_note"]})' if r["torch_note"] else ""
        print(f'| {r["case"]} | {r["threads"]} | {r["precision"]} | {es} | {p:.3f}{note} | {ratio} |')


if __name__ == "__main__":
    main()
