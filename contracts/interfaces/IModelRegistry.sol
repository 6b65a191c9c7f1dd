// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IModelRegistry
/// @notice Providers publish a model bundle (an IPFS directory) with its price per job and
/// royalty. The job market reads a model's terms when a job is created and snapshots them
/// into the job, so later changes never alter a job already paid for.
interface IModelRegistry {
    /// @notice What a provider submits to register a model.
    /// @param bundleCid CIDv1 (sha2-256) of the model's IPFS directory.
    /// @param manifestHash sha-256 of the bundle's manifest file.
    /// @param taskKind Short ASCII name of the task, e.g. "text-generation", left-aligned.
    /// @param token Payment token: address(0) for ETH, else an ERC-20 the market allows.
    /// @param price Price of one job, in the token's smallest unit.
    /// @param royaltyBps Share of each job's price kept by the provider, in basis points.
    struct ModelSpec {
        bytes bundleCid;
        bytes32 manifestHash;
        bytes32 taskKind;
        address token;
        uint96 price;
        uint16 royaltyBps;
    }

    /// @notice A registered model as stored (five slots; the first two are the hot terms).
    struct Model {
        address provider;
        uint96 price;
        address token;
        uint16 royaltyBps;
        bool active;
        uint16 bundleCodec;
        bytes32 bundleDigest;
        bytes32 manifestHash;
        bytes32 taskKind;
    }

    /// @notice The part of a model a job snapshots.
    struct Terms {
        address provider;
        address token;
        uint96 price;
        uint16 royaltyBps;
    }

    /// @notice Thrown when `modelId` was never registered.
    error ModelRegistryUnknownModel(uint32 modelId);
    /// @notice Thrown when jobs are requested for a deactivated model.
    error ModelRegistryModelInactive(uint32 modelId);
    /// @notice Thrown when `caller` manages a model it does not provide.
    error ModelRegistryNotProvider(uint32 modelId, address caller);
    /// @notice Thrown when a royalty exceeds `MAX_ROYALTY_BPS`.
    error ModelRegistryRoyaltyTooHigh(uint16 royaltyBps, uint16 maxRoyaltyBps);
    /// @notice Thrown when a model would be free: a zero price invites spam jobs.
    error ModelRegistryZeroPrice();
    /// @notice Thrown when a model is handed to the zero address.
    error ModelRegistryZeroAddress();
    /// @notice Thrown when the task kind is empty.
    error ModelRegistryEmptyTaskKind();

    /// @notice Emitted when a provider registers a model; carries the full bundle CID.
    event ModelRegistered(
        uint32 indexed modelId,
        address indexed provider,
        address indexed token,
        uint96 price,
        uint16 royaltyBps,
        bytes32 taskKind,
        bytes32 manifestHash,
        bytes bundleCid
    );
    /// @notice Emitted when a provider changed its price or royalty (new jobs only).
    event ModelTermsUpdated(uint32 indexed modelId, uint96 price, uint16 royaltyBps);
    /// @notice Emitted when a model was activated or deactivated.
    event ModelActiveSet(uint32 indexed modelId, bool active);
    /// @notice Emitted when a model's ownership (and future royalties) moved to `to`.
    event ModelTransferred(uint32 indexed modelId, address indexed from, address indexed to);

    /// @notice Register a model; the caller becomes its provider. Active at once.
    /// Requirements: non-zero price, royalty <= MAX_ROYALTY_BPS, a CIDv1 sha2-256 bundle CID,
    /// a non-empty task kind. Emits {ModelRegistered}.
    function registerModel(ModelSpec calldata spec) external returns (uint32 modelId);

    /// @notice Change price and royalty; jobs created earlier keep their snapshot.
    /// Requirements: caller is the provider; same bounds as registration. Emits {ModelTermsUpdated}.
    function updateTerms(uint32 modelId, uint96 price, uint16 royaltyBps) external;

    /// @notice Accept (true) or refuse (false) new jobs for a model. Emits {ModelActiveSet}.
    function setActive(uint32 modelId, bool active) external;

    /// @notice Hand the model (and its future royalties) to `to`. Emits {ModelTransferred}.
    function transferModel(uint32 modelId, address to) external;

    /// @notice The terms a new job snapshots; reverts when the model is unknown or inactive.
    function terms(uint32 modelId) external view returns (Terms memory);

    /// @notice The stored model; reverts when unknown.
    function model(uint32 modelId) external view returns (Model memory);

    /// @notice The full bundle CID rebuilt from its stored digest and codec.
    function bundleCid(uint32 modelId) external view returns (bytes memory);

    /// @notice Whether `modelId` was registered.
    function exists(uint32 modelId) external view returns (bool);

    /// @notice Number of models registered; ids run from 1 to this.
    function modelCount() external view returns (uint32);
}
