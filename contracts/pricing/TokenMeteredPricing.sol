// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IPricing} from "../interfaces/IPricing.sol";

/// @title TokenMeteredPricing
/// @notice A pricing mode that charges per input and per output token, as hosted LLM APIs do.
/// Each model's provider sets its rates here (in the model's payment token, per token) plus an
/// optional base per job. A request names the most tokens it may use; the market escrows what
/// that would cost and, once the worker's usage is known, charges only what was used (the rest
/// goes back to the requester). Rates are snapshotted into each job, so a provider's later
/// change never touches a created job.
///
/// Encodings (big-endian in a bytes32; `inferchain.market.metering` mirrors them):
/// - `pricingData` (the request):   maxInputTokens uint32 | maxOutputTokens uint32 in the low 64 bits
/// - `usage` (the worker's meter):  inputTokens uint32 | outputTokens uint32 in the low 64 bits
/// - `pricingTerms` (the job):      base uint64 | perInput uint64 | perOutput uint64 |
///                                  maxInputTokens uint32 | maxOutputTokens uint32
/// Usage above the request's limits is charged at the limits: a worker cannot bill more tokens
/// than the requester allowed (the market also caps the charge at the escrow).
/// Caveat: the usage is the worker's claim; it is committed with the result (the output document
/// states the token counts), so the job's verification mode checks it like the output itself.
contract TokenMeteredPricing is IPricing {
    /// @notice What a provider charges for one model.
    struct Rates {
        uint64 base;
        uint64 perInputToken;
        uint64 perOutputToken;
        bool set;
    }

    IModelRegistry public immutable MODELS;

    mapping(uint32 modelId => Rates) private _rates;

    /// @notice Thrown when `caller` sets rates for a model it does not provide.
    error TokenMeteredPricingNotProvider(uint32 modelId, address caller);
    /// @notice Thrown when a job asks for metered pricing of a model without rates.
    error TokenMeteredPricingNoRates(uint32 modelId);
    /// @notice Thrown when a request's token limits are zero.
    error TokenMeteredPricingNoTokens();
    /// @notice Thrown when the most a job may cost does not fit the market's uint96 price.
    error TokenMeteredPricingPriceOverflow(uint256 maxPrice);

    /// @notice Emitted when the provider of `modelId` set its rates (new jobs only).
    event RatesSet(uint32 indexed modelId, uint64 base, uint64 perInputToken, uint64 perOutputToken);

    constructor(IModelRegistry models) {
        MODELS = models;
    }

    /// @notice Set the metered rates of `modelId`, in its payment token's smallest unit.
    /// Requirements: the caller is the model's provider in the registry. Jobs already created keep
    /// the rates they were created with. Emits {RatesSet}.
    function setRates(uint32 modelId, uint64 base, uint64 perInputToken, uint64 perOutputToken) external {
        if (MODELS.terms(modelId).provider != msg.sender) {
            revert TokenMeteredPricingNotProvider(modelId, msg.sender);
        }
        _rates[modelId] = Rates(base, perInputToken, perOutputToken, true);
        emit RatesSet(modelId, base, perInputToken, perOutputToken);
    }

    /// @notice The rates of `modelId` (`set` false: not offered metered).
    function ratesOf(uint32 modelId) external view returns (Rates memory) {
        return _rates[modelId];
    }

    /// @inheritdoc IPricing
    function quote(address, uint32 modelId, IModelRegistry.Terms calldata, bytes32 pricingData)
        external
        view
        returns (uint96 maxPrice, bytes32 pricingTerms)
    {
        Rates memory rates = _rates[modelId];
        if (!rates.set) revert TokenMeteredPricingNoRates(modelId);
        (uint32 maxIn, uint32 maxOut) = _split(pricingData);
        if (maxIn == 0 && maxOut == 0) revert TokenMeteredPricingNoTokens();
        uint256 most = _cost(rates.base, rates.perInputToken, rates.perOutputToken, maxIn, maxOut);
        if (most > type(uint96).max) revert TokenMeteredPricingPriceOverflow(most);
        pricingTerms = bytes32(
            (uint256(rates.base) << 192) | (uint256(rates.perInputToken) << 128)
                | (uint256(rates.perOutputToken) << 64) | (uint256(maxIn) << 32) | maxOut
        );
        return (uint96(most), pricingTerms);
    }

    /// @inheritdoc IPricing
    function charge(bytes32 pricingTerms, bytes32 usage) external pure returns (uint96) {
        uint256 terms = uint256(pricingTerms);
        (uint32 maxIn, uint32 maxOut) = _split(pricingTerms);
        (uint32 usedIn, uint32 usedOut) = _split(usage);
        uint256 cost = _cost(
            uint64(terms >> 192),
            uint64(terms >> 128),
            uint64(terms >> 64),
            usedIn < maxIn ? usedIn : maxIn,
            usedOut < maxOut ? usedOut : maxOut
        );
        // quote() refused any terms whose most exceeds uint96, and usage is clamped to the limits
        return uint96(cost);
    }

    function _split(bytes32 word) private pure returns (uint32 first, uint32 second) {
        return (uint32(uint256(word) >> 32), uint32(uint256(word)));
    }

    function _cost(uint64 base, uint64 perIn, uint64 perOut, uint32 inTokens, uint32 outTokens)
        private
        pure
        returns (uint256)
    {
        return uint256(base) + uint256(perIn) * inTokens + uint256(perOut) * outTokens;
    }
}
