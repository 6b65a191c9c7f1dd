// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {Cid} from "./libraries/Cid.sol";

/// @title ModelRegistry
/// @notice Permissionless catalogue of models. No owner: a provider manages its own models
/// and nobody else can touch them. Whether a payment token is acceptable is the market's
/// call (its allow-list), checked when a job is created.
contract ModelRegistry is IModelRegistry {
    /// @notice Highest royalty a provider may keep, in basis points of a job's price.
    uint16 public constant MAX_ROYALTY_BPS = 5_000;

    mapping(uint32 modelId => Model) private _models;
    uint32 private _modelCount;

    modifier onlyProvider(uint32 modelId) {
        address provider = _models[modelId].provider;
        if (provider == address(0)) revert ModelRegistryUnknownModel(modelId);
        if (provider != msg.sender) revert ModelRegistryNotProvider(modelId, msg.sender);
        _;
    }

    // --- provider actions -----------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function registerModel(ModelSpec calldata spec) external returns (uint32 modelId) {
        _checkTerms(spec.price, spec.royaltyBps);
        if (spec.taskKind == bytes32(0)) revert ModelRegistryEmptyTaskKind();
        (uint16 codec, bytes32 digest) = Cid.parse(spec.bundleCid);
        modelId = ++_modelCount;
        _models[modelId] = Model({
            provider: msg.sender,
            price: spec.price,
            token: spec.token,
            royaltyBps: spec.royaltyBps,
            active: true,
            bundleCodec: codec,
            bundleDigest: digest,
            manifestHash: spec.manifestHash,
            taskKind: spec.taskKind
        });
        emit ModelRegistered(
            modelId,
            msg.sender,
            spec.token,
            spec.price,
            spec.royaltyBps,
            spec.taskKind,
            spec.manifestHash,
            spec.bundleCid
        );
    }

    /// @inheritdoc IModelRegistry
    function updateTerms(uint32 modelId, uint96 price, uint16 royaltyBps)
        external
        onlyProvider(modelId)
    {
        _checkTerms(price, royaltyBps);
        Model storage m = _models[modelId];
        m.price = price;
        m.royaltyBps = royaltyBps;
        emit ModelTermsUpdated(modelId, price, royaltyBps);
    }

    /// @inheritdoc IModelRegistry
    function setActive(uint32 modelId, bool active) external onlyProvider(modelId) {
        _models[modelId].active = active;
        emit ModelActiveSet(modelId, active);
    }

    /// @inheritdoc IModelRegistry
    function transferModel(uint32 modelId, address to) external onlyProvider(modelId) {
        if (to == address(0)) revert ModelRegistryZeroAddress();
        _models[modelId].provider = to;
        emit ModelTransferred(modelId, msg.sender, to);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function terms(uint32 modelId) external view returns (Terms memory) {
        Model storage m = _models[modelId];
        address provider = m.provider;
        if (provider == address(0)) revert ModelRegistryUnknownModel(modelId);
        if (!m.active) revert ModelRegistryModelInactive(modelId);
        return Terms({provider: provider, token: m.token, price: m.price, royaltyBps: m.royaltyBps});
    }

    /// @inheritdoc IModelRegistry
    function model(uint32 modelId) external view returns (Model memory) {
        Model memory m = _models[modelId];
        if (m.provider == address(0)) revert ModelRegistryUnknownModel(modelId);
        return m;
    }

    /// @inheritdoc IModelRegistry
    function bundleCid(uint32 modelId) external view returns (bytes memory) {
        Model storage m = _models[modelId];
        if (m.provider == address(0)) revert ModelRegistryUnknownModel(modelId);
        return Cid.build(m.bundleCodec, m.bundleDigest);
    }

    /// @inheritdoc IModelRegistry
    function exists(uint32 modelId) external view returns (bool) {
        return _models[modelId].provider != address(0);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint32) {
        return _modelCount;
    }

    // --- internal -------------------------------------------------------------------------

    function _checkTerms(uint96 price, uint16 royaltyBps) private pure {
        if (price == 0) revert ModelRegistryZeroPrice();
        if (royaltyBps > MAX_ROYALTY_BPS) {
            revert ModelRegistryRoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        }
    }
}
