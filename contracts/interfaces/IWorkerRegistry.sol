// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IWorkerRegistry
/// @notice Workers stake collateral, say which models they serve and leave in two steps.
/// The registry holds every stake; only the bound job market may count a claim and slash.
/// Slashed stake is sent to the market, which splits it between the harmed requester and
/// the protocol treasury.
///
/// Claimed-but-unsettled jobs are counted with two monotonic counters: this registry counts
/// claims (in the worker's slot, written at claim anyway) and the market counts settlements.
/// Their difference is the number of jobs a worker still holds; settling a job then costs no
/// call into this contract.
interface IWorkerRegistry {
    /// @notice A worker as stored: one slot.
    /// @param stake Collateral held, in the stake token.
    /// @param claims Jobs ever claimed (never reset); minus the market's settled count, the
    /// jobs still held. Exit waits until they are equal.
    /// @param unbondingEnds Zero while active; once exit is requested, when withdrawal opens.
    /// @param registered Whether the address is a worker at all.
    /// @param generation How many times this address left; keys its served-model list.
    struct Worker {
        uint96 stake;
        uint32 claims;
        uint40 unbondingEnds;
        bool registered;
        uint32 generation;
    }

    /// @notice Thrown when `worker` is not registered.
    error WorkerRegistryNotRegistered(address worker);
    /// @notice Thrown when `worker` registers twice.
    error WorkerRegistryAlreadyRegistered(address worker);
    /// @notice Thrown when a stake is below the minimum (registration or claim).
    error WorkerRegistryStakeBelowMinimum(uint256 stake, uint256 minStake);
    /// @notice Thrown when `worker` claims a job for a model it does not serve.
    error WorkerRegistryModelNotServed(address worker, uint32 modelId);
    /// @notice Thrown when an exiting worker claims a job or asks to exit again.
    error WorkerRegistryExiting(address worker);
    /// @notice Thrown when a worker cancels or completes an exit it never requested.
    error WorkerRegistryNotExiting(address worker);
    /// @notice Thrown when a worker withdraws before its unbonding delay has passed.
    error WorkerRegistryUnbonding(address worker, uint40 unbondingEnds);
    /// @notice Thrown when a worker withdraws while holding claimed jobs.
    error WorkerRegistryActiveJobs(address worker, uint256 activeJobs);
    /// @notice Thrown when anyone but the bound market counts a claim or slashes.
    error WorkerRegistryNotMarket(address caller);
    /// @notice Thrown when the market is bound a second time, or bound to address(0).
    error WorkerRegistryMarketAlreadyBound(address market);
    /// @notice Thrown when a worker lists a model the model registry does not know.
    error WorkerRegistryUnknownModel(uint32 modelId);
    /// @notice Thrown when one call lists more models than `MAX_MODELS_PER_CALL`.
    error WorkerRegistryTooManyModels(uint256 count, uint256 max);
    /// @notice Thrown when an admin parameter is outside its constant bounds.
    error WorkerRegistryParameterOutOfBounds(uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when the ETH sent differs from the amount named (or ETH comes with a token stake).
    error WorkerRegistryValueMismatch(uint256 expected, uint256 sent);
    /// @notice Thrown when a stake top-up is zero.
    error WorkerRegistryZeroAmount();

    /// @notice Emitted when `worker` joined with `stake` and a metadata CID.
    event WorkerRegistered(address indexed worker, uint256 stake, bytes metadataCid);
    /// @notice Emitted when `worker` added `amount`; `stake` is the new total.
    event StakeAdded(address indexed worker, uint256 amount, uint256 stake);
    /// @notice Emitted when `worker` published new metadata.
    event WorkerMetadataUpdated(address indexed worker, bytes metadataCid);
    /// @notice Emitted when `worker` started serving `modelId`.
    event ModelServed(address indexed worker, uint32 indexed modelId);
    /// @notice Emitted when `worker` stopped serving `modelId`.
    event ModelUnserved(address indexed worker, uint32 indexed modelId);
    /// @notice Emitted when `worker` asked to leave; withdrawal opens at `unbondingEnds`.
    event ExitRequested(address indexed worker, uint40 unbondingEnds);
    /// @notice Emitted when `worker` took back its exit request.
    event ExitCancelled(address indexed worker);
    /// @notice Emitted when `worker` left with `amount`.
    event StakeWithdrawn(address indexed worker, uint256 amount);
    /// @notice Emitted when `worker` lost `amount` of stake; `stake` is what is left.
    event WorkerSlashed(address indexed worker, uint256 amount, uint256 stake);
    /// @notice Emitted once, when the market that may count claims and slash was bound.
    event MarketBound(address indexed market);
    /// @notice Emitted when the owner changed the minimum stake.
    event MinStakeUpdated(uint256 minStake);
    /// @notice Emitted when the owner changed the unbonding delay (future exits only).
    event UnbondingDelayUpdated(uint40 unbondingDelay);
    /// @notice Emitted when the owner changed the slash, in basis points of the minimum stake.
    event SlashBpsUpdated(uint16 slashBps);

    /// @notice Join with `stake` (ETH: send it as value) serving `modelIds`.
    /// Requirements: not registered; stake >= minStake; known models; at most
    /// MAX_MODELS_PER_CALL ids. Emits {WorkerRegistered} and one {ModelServed} per model.
    function register(uint256 stake, bytes calldata metadataCid, uint32[] calldata modelIds)
        external
        payable;

    /// @notice Add `amount` to the caller's stake (also while exiting). Emits {StakeAdded}.
    function addStake(uint256 amount) external payable;

    /// @notice Publish a new metadata CID. Emits {WorkerMetadataUpdated}.
    function updateMetadata(bytes calldata metadataCid) external;

    /// @notice Serve more models. Emits {ModelServed} per model.
    function addModels(uint32[] calldata modelIds) external;

    /// @notice Stop serving models; claimed jobs stay claimed. Emits {ModelUnserved} per model.
    function removeModels(uint32[] calldata modelIds) external;

    /// @notice Stop claiming and start the unbonding delay. Emits {ExitRequested}.
    function requestExit() external;

    /// @notice Come back before withdrawing. Emits {ExitCancelled}.
    function cancelExit() external;

    /// @notice Leave with the whole stake once unbonded and no claimed job is left.
    /// Emits {StakeWithdrawn}.
    function withdrawStake() external;

    /// @notice Market only: check that `account` may claim `count` jobs of `modelId` and count
    /// them. No event of its own: the market's {IJobMarket-JobClaimed} says it.
    function acquire(address account, uint32 modelId, uint32 count) external;

    /// @notice Market only: take the slash for one failed job from `account`'s stake (capped
    /// at the stake), send it to the market and return the amount.
    /// Emits {WorkerSlashed} when something was taken.
    function slash(address account) external returns (uint256 slashed);

    /// @notice Jobs `account` claimed and the market has not settled yet.
    function activeJobs(address account) external view returns (uint256);

    /// @notice The stored worker.
    function worker(address account) external view returns (Worker memory);

    /// @notice sha2-256 digest of the worker's metadata CID (full CID in events).
    function metadataDigest(address account) external view returns (bytes32);

    /// @notice Whether `account` serves `modelId`.
    function serves(address account, uint32 modelId) external view returns (bool);

    /// @notice Whether `account` could claim a `modelId` job now.
    function canClaim(address account, uint32 modelId) external view returns (bool);

    /// @notice The slash one failed job costs now (before capping at the worker's stake).
    function slashAmount() external view returns (uint256);

    /// @notice Token staked: address(0) for ETH.
    function stakeToken() external view returns (address);

    /// @notice The market allowed to count claims and slash; zero until bound.
    function market() external view returns (address);

    function minStake() external view returns (uint256);

    function unbondingDelay() external view returns (uint40);

    function slashBps() external view returns (uint16);

    /// @notice Sum of all stakes held (this contract's balance of the stake token).
    function totalStaked() external view returns (uint256);
}
