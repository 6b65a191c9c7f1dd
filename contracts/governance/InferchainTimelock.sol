// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title InferchainTimelock
/// @notice OpenZeppelin's {TimelockController}, owner of the {MarketGovernor}: every owner
/// action is scheduled in public (`CallScheduled`) and runs no earlier than `minDelay` later
/// (2 days in production; `inferchain deploy` refuses under 1 day off local chains).
/// It administers itself (no admin account): only a scheduled operation changes its roles
/// or its delay. Proposers (the protocol multisig) schedule and cancel; executors are given
/// at deployment (address(0): anyone may execute a ready operation).
contract InferchainTimelock is TimelockController {
    /// @param minDelay Seconds between scheduling and the earliest execution.
    /// @param proposers Accounts that may schedule and cancel operations.
    /// @param executors Accounts that may execute ready operations (address(0): anyone).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors)
        TimelockController(minDelay, proposers, executors, address(0))
    {}
}
