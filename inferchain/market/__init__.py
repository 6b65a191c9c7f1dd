"""Bindings for the marketplace contracts shared by the worker, gateway and CLI."""

from inferchain.market.deploy import Market, MarketAddresses, MarketConfig, deploy_market
from inferchain.market.history import (
    JobOutcome,
    JobRecord,
    decode_logs,
    fetch_market_events,
    fold_events,
)
from inferchain.market.jobs import ETH, ZERO_ADDRESS, Job, JobRequest, JobStatus, JobTerms
from inferchain.market.models import ModelSpec, task_kind_bytes, task_kind_str
from inferchain.market.signing import (
    ForeignRequest,
    MalformedRequest,
    SignedJobRequest,
    SignedRequestError,
    job_request_typed_data,
    json_typed_data,
    read_market_domain,
    recover_job_request,
    sign_job_request,
)

__all__ = [
    "ETH",
    "ZERO_ADDRESS",
    "ForeignRequest",
    "Job",
    "JobOutcome",
    "JobRecord",
    "JobRequest",
    "JobStatus",
    "JobTerms",
    "MalformedRequest",
    "Market",
    "MarketAddresses",
    "MarketConfig",
    "ModelSpec",
    "SignedJobRequest",
    "SignedRequestError",
    "decode_logs",
    "deploy_market",
    "fetch_market_events",
    "fold_events",
    "job_request_typed_data",
    "json_typed_data",
    "read_market_domain",
    "recover_job_request",
    "sign_job_request",
    "task_kind_bytes",
    "task_kind_str",
]
