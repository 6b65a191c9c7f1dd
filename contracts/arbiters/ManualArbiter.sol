// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IArbiter} from "../interfaces/IArbiter.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";

/// @title ManualArbiter
/// @notice The first verification tier: its owner (a person or a multisig) rules on disputes
/// by hand and the ruling is applied at once. Rulings are final. If the owner stays silent,
/// the market's arbitration deadline unwinds the dispute without a verdict.
contract ManualArbiter is IArbiter, Ownable2Step {
    mapping(address market => mapping(uint256 jobId => Verdict)) private _rulings;

    /// @notice Thrown when a dispute is ruled on twice.
    error ManualArbiterAlreadyRuled(address market, uint256 jobId);

    /// @notice Emitted when the owner ruled on `jobId` of `market`.
    event Ruled(address indexed market, uint256 indexed jobId, bool workerWins);

    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @notice Rule on a dispute and apply the ruling in `market` right away.
    /// Requirements: owner; not ruled before; the dispute is still open in the market.
    /// Emits {Ruled}.
    function rule(IJobMarket market, uint256 jobId, IJobMarket.Job calldata job, bool workerWins)
        external
        onlyOwner
    {
        mapping(uint256 => Verdict) storage rulings = _rulings[address(market)];
        if (rulings[jobId] != Verdict.Pending) revert ManualArbiterAlreadyRuled(address(market), jobId);
        rulings[jobId] = workerWins ? Verdict.WorkerWins : Verdict.WorkerLoses;
        emit Ruled(address(market), jobId, workerWins);
        market.resolveDispute(jobId, job);
    }

    /// @inheritdoc IArbiter
    function verdict(uint256 jobId, IJobMarket.Job calldata) external view returns (Verdict) {
        return _rulings[msg.sender][jobId];
    }

    /// @notice The ruling recorded for `jobId` of `market`.
    function rulingOf(address market, uint256 jobId) external view returns (Verdict) {
        return _rulings[market][jobId];
    }
}
