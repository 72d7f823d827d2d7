"""The paper's stages, built from the mechanisms one floor down.

Each module is one step of o1-Coder (or of the test-time paper) and may
import any mechanism (`o1lite.models`, `o1lite.sandbox`, ...); no mechanism
imports a stage (a test keeps it so).

| module | stage | chapter |
|---|---|---|
| `prompts` | every template (TCG, vanilla, pseudocode actions) and its parser | 02, 03 |
| `tcg` | the test-case generator: data, SFT, DPO, evaluation | 02 |
| `policies` | the policy object (vanilla / pseudocode) that search, RL and selection use; its SFT | 03, 04 |
| `mcts` | search over reasoning steps; step-labelled trajectories | 04 |
| `upstream` | an earlier chapter's artifact (policy, generated tests, search trees, the point-wise PRM), from the cache or built as that chapter builds it | 04, 05, 07 |
| `prm` | the process reward model: point-wise and pair-wise training, step scoring, PRM-guided beam search | 05 |
| `rl` | self-play RL: the outcome + process reward aggregator, GRPO rounds on TRL's `GRPOTrainer`, the RFT control | 06 |
| `selection` | test time: samples drawn once, inputs without a reference, filter, cluster, rank, submit k; the gap to the oracle recovered | 07 |
"""
