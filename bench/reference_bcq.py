#!/usr/bin/env python3
"""The reference PyTorch BCQ, timed on the same synthetic inputs as bench_bcq (issue 6).

This file transcribes, in its own words, the paper authors' reference implementation
(github.com/sfujim/BCQ, continuous_BCQ/BCQ.py and the replay buffer of continuous_BCQ/utils.py),
so that bench_bcq can compare against a reference measured on the same machine, the same
Debian torch 1.13 (the same libtorch shared library as our C++ code) and the same settings
instead of published constants. What is carried over, fact for fact:

- Actor (perturbation model xi_phi): (state, action) -> 400 -> 300 -> action_dim, ReLU;
  output phi * max_action * tanh(.) added to the action and clamped to the action bounds,
  phi = 0.05.
- Critic: two Q networks (state, action) -> 400 -> 300 -> 1; q1() alone drives the actor loss.
- VAE: encoder (state, action) -> 750 -> 750 -> mean and log_std (clamped to [-4, 15]),
  latent size 2 * action_dim; decoder (state, z) -> 750 -> 750 -> action_dim with
  max_action * tanh; when no z is given, z ~ N(0, 1) clamped to [-0.5, 0.5].
  Loss: MSE reconstruction + 0.5 * KL, KL = -0.5 * mean(1 + log(std^2) - mean^2 - std^2).
- Adam with lr 1e-3 for all three networks (the reference uses 1e-3 for each).
- One training step on a batch of 100: VAE step; then without gradients the next states are
  repeated 10 times (repeat_interleave), the target critic scores the target actor's
  perturbation of decoded actions, target = 0.75 * min + 0.25 * max of the two Qs, the max over
  the 10 samples per transition, y = r + not_done * 0.99 * target; critic step on
  mse(Q1, y) + mse(Q2, y); actor step on -mean(Q1(s, actor(s, decode(s)))) (gradients also
  flow into the decoder and critic and are discarded, as in the reference); Polyak averaging
  with tau = 0.005 of the critic and actor targets every step.
- select_action: the state repeated 100 times, actions = actor(state, decode(state)), the one
  with the largest q1 is returned as a numpy array.
- The reference's .to(device) calls (no-ops on the CPU, kept for their dispatch cost).
- Replay sampling: numpy randint indices into float64 numpy arrays, then torch.FloatTensor of
  each slice (that conversion is part of the reference's iteration cost).

Usage: python3 bench/reference_bcq.py [--iterations N] [--threads 1,2] [--no-flush] [--json FILE]
"""

import argparse
import copy
import json
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The reference moves every tensor to its device; here that is always the CPU (the published
# and measured reference rates are CPU rates), and the calls are kept for their small cost.
DEVICE = torch.device("cpu")

class Actor(nn.Module):
    """Perturbation model: adds at most phi * max_action to a decoded action."""

    def __init__(self, state_dim, action_dim, max_action, phi=0.05):
        super().__init__()
        self.l1 = nn.Linear(state_dim + action_dim, 400)
        self.l2 = nn.Linear(400, 300)
        self.l3 = nn.Linear(300, action_dim)
        self.max_action = max_action
        self.phi = phi

    def forward(self, state, action):
        h = F.relu(self.l1(torch.cat([state, action], 1)))
        h = F.relu(self.l2(h))
        perturbation = self.phi * self.max_action * torch.tanh(self.l3(h))
        return (action + perturbation).clamp(-self.max_action, self.max_action)


class Critic(nn.Module):
    """Twin Q networks."""

    def __init__(self, state_dim, action_dim):
        super().__init__()
        self.l1 = nn.Linear(state_dim + action_dim, 400)
        self.l2 = nn.Linear(400, 300)
        self.l3 = nn.Linear(300, 1)
        self.l4 = nn.Linear(state_dim + action_dim, 400)
        self.l5 = nn.Linear(400, 300)
        self.l6 = nn.Linear(300, 1)

    def forward(self, state, action):
        # The reference concatenates state and action once per Q network.
        q1 = self.l3(F.relu(self.l2(F.relu(self.l1(torch.cat([state, action], 1))))))
        q2 = self.l6(F.relu(self.l5(F.relu(self.l4(torch.cat([state, action], 1))))))
        return q1, q2

    def q1(self, state, action):
        return self.l3(F.relu(self.l2(F.relu(self.l1(torch.cat([state, action], 1))))))


class VAE(nn.Module):
    """Conditional VAE of the batch's actions given the state."""

    def __init__(self, state_dim, action_dim, latent_dim, max_action):
        super().__init__()
        self.e1 = nn.Linear(state_dim + action_dim, 750)
        self.e2 = nn.Linear(750, 750)
        self.mean = nn.Linear(750, latent_dim)
        self.log_std = nn.Linear(750, latent_dim)
        self.d1 = nn.Linear(state_dim + latent_dim, 750)
        self.d2 = nn.Linear(750, 750)
        self.d3 = nn.Linear(750, action_dim)
        self.max_action = max_action
        self.latent_dim = latent_dim

    def forward(self, state, action):
        h = F.relu(self.e1(torch.cat([state, action], 1)))
        h = F.relu(self.e2(h))
        mean = self.mean(h)
        log_std = self.log_std(h).clamp(-4, 15)
        std = torch.exp(log_std)
        z = mean + std * torch.randn_like(std)
        return self.decode(state, z), mean, std

    def decode(self, state, z=None):
        if z is None:
            z = torch.randn((state.shape[0], self.latent_dim)).to(DEVICE).clamp(-0.5, 0.5)
        h = F.relu(self.d1(torch.cat([state, z], 1)))
        h = F.relu(self.d2(h))
        return self.max_action * torch.tanh(self.d3(h))


class BCQ:
    def __init__(self, state_dim, action_dim, max_action, discount=0.99, tau=0.005, lmbda=0.75,
                 phi=0.05):
        latent_dim = 2 * action_dim
        self.actor = Actor(state_dim, action_dim, max_action, phi).to(DEVICE)
        self.actor_target = copy.deepcopy(self.actor)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=1e-3)
        self.critic = Critic(state_dim, action_dim).to(DEVICE)
        self.critic_target = copy.deepcopy(self.critic)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=1e-3)
        self.vae = VAE(state_dim, action_dim, latent_dim, max_action).to(DEVICE)
        self.vae_optimizer = torch.optim.Adam(self.vae.parameters(), lr=1e-3)
        self.discount = discount
        self.tau = tau
        self.lmbda = lmbda

    def select_action(self, state):
        with torch.no_grad():
            s = torch.FloatTensor(state.reshape(1, -1)).repeat(100, 1).to(DEVICE)
            action = self.actor(s, self.vae.decode(s))
            q1 = self.critic.q1(s, action)
            best = q1.argmax(0)
        return action[best].cpu().data.numpy().flatten()

    def train(self, replay_buffer, iterations, batch_size=100):
        for _ in range(iterations):
            state, action, next_state, reward, not_done = replay_buffer.sample(batch_size)

            recon, mean, std = self.vae(state, action)
            recon_loss = F.mse_loss(recon, action)
            kl_loss = -0.5 * (1 + torch.log(std.pow(2)) - mean.pow(2) - std.pow(2)).mean()
            vae_loss = recon_loss + 0.5 * kl_loss
            self.vae_optimizer.zero_grad()
            vae_loss.backward()
            self.vae_optimizer.step()

            with torch.no_grad():
                next_state = torch.repeat_interleave(next_state, 10, 0)
                target_q1, target_q2 = self.critic_target(
                    next_state, self.actor_target(next_state, self.vae.decode(next_state)))
                target_q = (self.lmbda * torch.min(target_q1, target_q2)
                            + (1.0 - self.lmbda) * torch.max(target_q1, target_q2))
                target_q = target_q.reshape(batch_size, -1).max(1)[0].reshape(-1, 1)
                target_q = reward + not_done * self.discount * target_q

            current_q1, current_q2 = self.critic(state, action)
            critic_loss = F.mse_loss(current_q1, target_q) + F.mse_loss(current_q2, target_q)
            self.critic_optimizer.zero_grad()
            critic_loss.backward()
            self.critic_optimizer.step()

            sampled_actions = self.vae.decode(state)
            perturbed_actions = self.actor(state, sampled_actions)
            actor_loss = -self.critic.q1(state, perturbed_actions).mean()
            self.actor_optimizer.zero_grad()
            actor_loss.backward()
            self.actor_optimizer.step()

            for param, target in zip(self.critic.parameters(), self.critic_target.parameters()):
                target.data.copy_(self.tau * param.data + (1 - self.tau) * target.data)
            for param, target in zip(self.actor.parameters(), self.actor_target.parameters()):
                target.data.copy_(self.tau * param.data + (1 - self.tau) * target.data)


class ReplayBuffer:
    """float64 numpy storage, sampled with np.random.randint, as the reference's utils.py."""

    def __init__(self, state_dim, action_dim, max_size):
        self.max_size = max_size
        self.ptr = 0
        self.size = 0
        self.state = np.zeros((max_size, state_dim))
        self.action = np.zeros((max_size, action_dim))
        self.next_state = np.zeros((max_size, state_dim))
        self.reward = np.zeros((max_size, 1))
        self.not_done = np.zeros((max_size, 1))

    def add(self, state, action, next_state, reward, done):
        self.state[self.ptr] = state
        self.action[self.ptr] = action
        self.next_state[self.ptr] = next_state
        self.reward[self.ptr] = reward
        self.not_done[self.ptr] = 1.0 - done
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample(self, batch_size):
        ind = np.random.randint(0, self.size, size=batch_size)
        return (torch.FloatTensor(self.state[ind]).to(DEVICE),
                torch.FloatTensor(self.action[ind]).to(DEVICE),
                torch.FloatTensor(self.next_state[ind]).to(DEVICE),
                torch.FloatTensor(self.reward[ind]).to(DEVICE),
                torch.FloatTensor(self.not_done[ind]).to(DEVICE))


def synthetic_buffer(state_dim, action_dim, n=10000):
    """bench_bcq's synthetic buffer (same distributions, not the same numbers): normal states,
    uniform(-1, 1) actions, normal rewards, every 100th transition terminal."""
    rng = np.random.default_rng(1)
    buffer = ReplayBuffer(state_dim, action_dim, n)
    for i in range(n):
        buffer.add(rng.standard_normal(state_dim), rng.uniform(-1, 1, action_dim),
                   rng.standard_normal(state_dim), rng.standard_normal(), float(i % 100 == 99))
    return buffer


INPUTS = [("hopper", 11, 3), ("halfcheetah", 17, 6)]
WARMUP_ITERATIONS = 20
SELECT_WARMUP = 20
# Selection time: the median over SELECT_BLOCKS blocks of SELECT_BLOCK_CALLS calls (per call),
# so a burst of load from elsewhere on a shared VM shifts one block, not the figure.
SELECT_BLOCKS = 10
SELECT_BLOCK_CALLS = 30


def measure(name, state_dim, action_dim, threads, iterations):
    torch.manual_seed(0)
    np.random.seed(2)
    policy = BCQ(state_dim, action_dim, max_action=1.0)
    buffer = synthetic_buffer(state_dim, action_dim)
    policy.train(buffer, WARMUP_ITERATIONS)
    t0 = time.perf_counter()
    policy.train(buffer, iterations)
    its = iterations / (time.perf_counter() - t0)
    state = np.random.standard_normal(state_dim)
    for _ in range(SELECT_WARMUP):
        policy.select_action(state)
    block_ms = []
    for _ in range(SELECT_BLOCKS):
        t1 = time.perf_counter()
        for _ in range(SELECT_BLOCK_CALLS):
            policy.select_action(state)
        block_ms.append(1e3 * (time.perf_counter() - t1) / SELECT_BLOCK_CALLS)
    select_ms = sorted(block_ms)[len(block_ms) // 2]
    return {"input": name, "state_dim": state_dim, "action_dim": action_dim, "threads": threads,
            "its_per_s": its, "select_ms": select_ms}


def thread_list(text):
    try:
        threads = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}")
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1: {text!r}")
    return threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="timed iterations (300)")
    parser.add_argument("--threads", type=thread_list, default=[1, 2],
                        help="comma-separated torch thread counts (1,2)")
    parser.add_argument("--no-flush", action="store_true",
                        help="leave denormals as they are (default: flush them to zero)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers and settings here")
    args = parser.parse_args()
    if args.iterations < 1:
        parser.error("--iterations must be >= 1")
    flush = not args.no_flush
    torch.set_flush_denormal(flush)

    print(f"reference_bcq: the reference PyTorch BCQ (sfujim/BCQ), batch 100, "
          f"{args.iterations} timed iterations, denormals {'flushed' if flush else 'not flushed'}, "
          f"torch {torch.__version__}")
    print(f"{'input':<12} {'threads':>7} {'it/s':>8} {'select ms':>11}")
    results = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, state_dim, action_dim in INPUTS:
            r = measure(name, state_dim, action_dim, threads, args.iterations)
            r["flush_denormal"] = flush
            results.append(r)
            print(f"{name:<12} {threads:>7} {r['its_per_s']:>8.2f} {r['select_ms']:>11.3f}",
                  flush=True)

    if args.json:
        report = {
            "format": "bcq-reference-bench/1",
            "implementation": "sfujim/BCQ continuous_BCQ (transcribed in bench/reference_bcq.py)",
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "python_version": platform.python_version(),
            "flush_denormal": flush,
            "threads": args.threads,
            "iterations": args.iterations,
            "warmup_iterations": WARMUP_ITERATIONS,
            "batch_size": 100,
            "select_blocks": SELECT_BLOCKS,
            "select_block_calls": SELECT_BLOCK_CALLS,
            "results": results,
        }
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
