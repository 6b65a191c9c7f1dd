// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IPricing
/// @notice A pricing mode: how much a job may cost and what it costs once its usage is known.
/// Mode 0 (flat: the model's price) is built into the market and makes no call. A market
/// registers one module per pricing id, once and for good.
///
/// At creation the market escrows `maxPrice` from {quote} as the job's `price` and snapshots
/// `pricingTerms` into the job. At payout it charges `min(price, charge(pricingTerms, usage))`,
/// where `usage` is the worker's meter reading committed at submission (and so checked by the
/// job's verification mode); royalty and fee come out of the charge and the rest of the
/// escrow goes back to the requester.
interface IPricing {
    /// @notice The most a job may cost and the terms to snapshot into it.
    /// @param model The model's current terms in the registry (its flat price, token, royalty).
    /// @param pricingData The request's parameters for this mode (e.g. token limits).
    function quote(address requester, uint32 modelId, IModelRegistry.Terms calldata model, bytes32 pricingData)
        external
        view
        returns (uint96 maxPrice, bytes32 pricingTerms);

    /// @notice What a job with these snapshotted terms costs for this usage (the market caps it
    /// at the escrowed price).
    function charge(bytes32 pricingTerms, bytes32 usage) external view returns (uint96);
}
