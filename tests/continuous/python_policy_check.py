#!/usr/bin/env python3
"""Runs an exported policy.pt in Python's torch, for tests/continuous/python_policy_test.cpp.

Usage: python_policy_check.py POLICY.pt INPUTS.json SEED

INPUTS.json is {"inputs": [state or batch of states, ...]} (nested lists of numbers). The
script loads POLICY.pt with torch.jit.load, uses one thread, seeds torch's default generator
with SEED once (BCQ and VAE-BC policies sample their latents from it), calls forward on each
input in order and prints one JSON object on stdout:
{"torch_version": ..., "outputs": [{"shape": [...], "values": [nested lists]}, ...]}.
Values are float32 results widened to Python floats, which json writes with enough digits to
read back exactly. Exit code 3 (with one line on stderr) when torch cannot be imported.
"""

import json
import sys


def main():
    if len(sys.argv) != 4:
        print("usage: python_policy_check.py POLICY.pt INPUTS.json SEED", file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError as e:
        print(f"python_policy_check.py: {sys.executable} cannot import torch ({e}); "
              "install python3-torch (scripts/install-deps.sh)", file=sys.stderr)
        return 3
    policy_path, inputs_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(inputs_path) as f:
        inputs = json.load(f)["inputs"]
    # One thread, as the C++ side, so that both run the same kernels in the same order.
    torch.set_num_threads(1)
    policy = torch.jit.load(policy_path)
    torch.manual_seed(seed)
    outputs = []
    with torch.no_grad():
        for states in inputs:
            action = policy(torch.tensor(states, dtype=torch.float32))
            outputs.append({"shape": list(action.shape), "dtype": str(action.dtype),
                            "values": action.tolist()})
    json.dump({"torch_version": torch.__version__, "outputs": outputs}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
