"""Writes HDF5 buffers the way other tools publish them, with h5py (python3-h5py), for
replay_buffer_test: D4RL v0 / v2 files and a Minari dataset, plus forged and bad variants.
Usage: make_datasets.py KIND PATH. Rewards are 1 per step unless stated, so returns are
episode lengths."""
import sys

import h5py
import numpy as np

kind, path = sys.argv[1], sys.argv[2]
f = h5py.File(path, "w")


def episodes(lengths, terminal_last, dim=3, act=2):
    """Rows of consecutive episodes; observation row i is [i, i + 0.5, ...]."""
    n = sum(lengths)
    obs = np.array([[i + 0.5 * k for k in range(dim)] for i in range(n)], dtype=np.float64)
    actions = np.full((n, act), 0.25, dtype=np.float32)
    terminals = np.zeros(n, dtype=bool)
    ends = np.cumsum(lengths) - 1
    for e, last in zip(ends, terminal_last):
        terminals[e] = last
    return obs, actions, np.ones(n, dtype=np.float32), terminals, ends


if kind == "d4rl-v2":
    # Two episodes: 4 steps ending terminal, 3 steps cut by the time limit; float64
    # observations, infos/ and metadata/ groups as D4RL publishes them.
    obs, actions, rewards, terminals, ends = episodes([4, 3], [True, False])
    timeouts = np.zeros(len(rewards), dtype=bool)
    timeouts[ends[1]] = True
    f["observations"] = obs
    f["next_observations"] = obs + 100.0
    f["actions"] = actions
    f["rewards"] = rewards.astype(np.float64)
    f["terminals"] = terminals
    f["timeouts"] = timeouts
    f["infos/qpos"] = np.zeros((len(rewards), 6))
    f["infos/action_log_probs"] = np.zeros(len(rewards))
    f["metadata/algorithm"] = np.bytes_("SAC")
    f["metadata/policy/fc0/weight"] = np.zeros((4, 3))
elif kind == "d4rl-v0":
    # No timeouts, no next_observations: an episode of 1000 steps (the time limit) then one
    # of 5 steps ending terminal, then 2 steps cut by the end of the file.
    obs, actions, rewards, terminals, _ = episodes([1000, 5, 2], [False, True, False])
    f["observations"] = obs.astype(np.float32)
    f["actions"] = actions
    f["rewards"] = rewards
    f["terminals"] = terminals
elif kind == "terminal-and-timeout":
    obs, actions, rewards, terminals, ends = episodes([3, 2], [True, False])
    timeouts = np.zeros(len(rewards), dtype=bool)
    timeouts[ends[0]] = True  # both flags on the first episode's last step
    timeouts[ends[1]] = True
    for key, value in [("observations", obs), ("next_observations", obs + 1), ("actions", actions),
                       ("rewards", rewards), ("terminals", terminals), ("timeouts", timeouts)]:
        f[key] = value
elif kind in ("env-walker2d", "format-9", "format-not-utf8", "name-not-utf8", "terminals-2", "terminals-half"):
    obs, actions, rewards, terminals, ends = episodes([3], [True])
    flags = terminals.astype(np.float32)
    if kind == "terminals-2":
        flags[1] = 2.0
    if kind == "terminals-half":
        flags[1] = 0.5
    for key, value in [("observations", obs), ("next_observations", obs + 1), ("actions", actions),
                       ("rewards", rewards), ("terminals", flags), ("timeouts", np.zeros(3, dtype=bool))]:
        f[key] = value
    if kind == "env-walker2d":
        f.attrs["env"] = "walker2d"  # h5py writes a variable-length UTF-8 string
    if kind == "format-9":
        f.attrs["format"] = "bcq-buffer/9"
    if kind == "format-not-utf8":
        # Fixed-length bytes that are not UTF-8 (found by fuzz_buffer_layout).
        f.attrs["format"] = np.bytes_(b"bcq\xffbuffer")
        f.attrs["env"] = np.bytes_(b"hop\xfeper")
    if kind == "name-not-utf8":
        f.attrs[b"no\xffte"] = np.bytes_(b"hop\xfeper")  # a name and a value that are not UTF-8
elif kind == "forged-rows":
    # A few KB declaring 10^10 rows: chunked and never written, so nothing is stored.
    f.create_dataset("observations", shape=(10**10, 3), dtype="f4", chunks=(1024, 3))
    for key in ("actions", "rewards", "terminals"):
        f.create_dataset(key, shape=(10**10,), dtype="f4", chunks=(1024,))
elif kind == "minari":
    # Minari's main_data.hdf5: episode_<id> groups with T + 1 observations; ids out of
    # lexicographic order (episode_10 after episode_2).
    f.attrs["total_episodes"] = 3
    f.attrs["total_steps"] = 9
    f.attrs["env_spec"] = '{"id": "Hopper-v4"}'
    f.attrs["dataset_id"] = "hopper-test-v0"
    for eid, steps, end in [(0, 4, "terminated"), (2, 3, "truncated"), (10, 2, "running")]:
        g = f.create_group("episode_%d" % eid)
        g.attrs["id"] = eid
        g["observations"] = np.array([[eid * 100 + t, 0.5, -0.5] for t in range(steps + 1)], dtype=np.float64)
        g["actions"] = np.full((steps, 2), 0.05 * (eid + 1), dtype=np.float32)
        g["rewards"] = np.full(steps, float(eid + 1))
        term = np.zeros(steps, dtype=bool)
        trunc = np.zeros(steps, dtype=bool)
        if end == "terminated":
            term[-1] = True
        if end == "truncated":
            trunc[-1] = True
        g["terminations"] = term
        g["truncations"] = trunc
        g["infos/success"] = np.zeros(steps, dtype=bool)
elif kind == "minari-dict-obs":
    g = f.create_group("episode_0")
    g["observations/position"] = np.zeros((3, 2))
    g["actions"] = np.zeros((2, 1), dtype=np.float32)
    g["rewards"] = np.zeros(2)
    g["terminations"] = np.zeros(2, dtype=bool)
    g["truncations"] = np.zeros(2, dtype=bool)
else:
    raise SystemExit("unknown kind " + kind)
f.close()
