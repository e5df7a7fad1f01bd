"""The creative optimizer's maths (pure): which of a master's live variants run ACTIVE.

`decisions` ranks a master (`rank_master`: gates, spike guard, posteriors, Thompson
draws, cooldown); `posteriors` holds the Bayesian pieces it rests on; `structures`
reports the best narrative structure per campaign; `policy` holds the inputs. The
public names are re-exported here, so `from promotion.ranking import …` keeps working.
"""

from promotion.budget import BudgetDecision, BudgetPolicy, plan_budget
from promotion.daystats import DayStats
from promotion.ranking.decisions import (
    Action,
    CandidateJudgement,
    RankingResult,
    rank_master,
)
from promotion.ranking.policy import Candidate, RankingPolicy
from promotion.ranking.posteriors import beta_ppf
from promotion.ranking.structures import (
    StructureReport,
    StructureRow,
    StructureStats,
    best_structure,
)

__all__ = [
    "Action",
    "BudgetDecision",
    "BudgetPolicy",
    "Candidate",
    "CandidateJudgement",
    "DayStats",
    "RankingPolicy",
    "RankingResult",
    "StructureReport",
    "StructureRow",
    "StructureStats",
    "best_structure",
    "beta_ppf",
    "plan_budget",
    "rank_master",
]
