// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IWorkerRegistry
/// @notice One registry shared by every market and verification module ("venue"), with no
/// owner and no parameters. Workers register for discovery (metadata, served models), stake
/// per token (ETH is `address(0)`) and allocate parts of a stake to venues. A venue may slash
/// only what is allocated to it, and is paid what it slashes; a worker may take back at once
/// whatever is neither allocated nor, within an allocation, locked by the venue
/// ({IVenue-lockedOf}). A venue that stops answering is left through forced deallocation,
/// after FORCE_DELAY.
interface IWorkerRegistry {
    /// @notice A worker's stake in one token.
    /// @param stake Held for the worker.
    /// @param allocated Sum of its allocations to venues (<= stake).
    struct Stake {
        uint96 stake;
        uint96 allocated;
    }

    /// @notice One allocation of a worker's stake in a token to a venue.
    /// @param amount Slashable by the venue, and by no one else.
    /// @param forceAt When a requested forced deallocation may run; zero when none was asked.
    struct Allocation {
        uint96 amount;
        uint40 forceAt;
    }

    /// @notice Thrown when `worker` is not registered.
    error WorkerRegistryNotRegistered(address worker);
    /// @notice Thrown when `worker` registers twice.
    error WorkerRegistryAlreadyRegistered(address worker);
    /// @notice Thrown when a worker lists a model the model registry does not know.
    error WorkerRegistryUnknownModel(uint32 modelId);
    /// @notice Thrown when one call lists more models than `MAX_MODELS_PER_CALL`.
    error WorkerRegistryTooManyModels(uint256 count, uint256 max);
    /// @notice Thrown when the ETH sent differs from the amount named (or ETH comes with a token stake).
    error WorkerRegistryValueMismatch(uint256 expected, uint256 sent);
    /// @notice Thrown when an amount is zero.
    error WorkerRegistryZeroAmount();
    /// @notice Thrown when a stake would pass 2^96 - 1.
    error WorkerRegistryStakeTooLarge(uint256 stake);
    /// @notice Thrown when unstaking or allocating more than the unallocated stake.
    error WorkerRegistryInsufficientFreeStake(address token, uint256 free, uint256 amount);
    /// @notice Thrown when deallocating more than the allocation.
    error WorkerRegistryInsufficientAllocation(address venue, address token, uint256 allocation, uint256 amount);
    /// @notice Thrown when a deallocation would leave less than what the venue has locked.
    error WorkerRegistryAllocationLocked(address venue, address token, uint256 locked, uint256 left);
    /// @notice Thrown when a forced deallocation was not requested or is not due yet.
    error WorkerRegistryForceNotDue(address venue, address token, uint40 forceAt);
    /// @notice Thrown when allocating to a venue whose forced deallocation is pending: empty
    /// the allocation first ({deallocate} or {forceDeallocate}).
    error WorkerRegistryForcePending(address venue, address token, uint40 forceAt);
    /// @notice Thrown when allocating to an address without code (it could never answer
    /// {IVenue-lockedOf}).
    error WorkerRegistryNotVenue(address venue);
    /// @notice Thrown when unstaking to address(0).
    error WorkerRegistryZeroAddress();

    /// @notice Emitted when `worker` joined with a metadata CID.
    event WorkerRegistered(address indexed worker, bytes metadataCid);
    /// @notice Emitted when `worker` unregistered (its stake and allocations are untouched).
    event WorkerLeft(address indexed worker);
    /// @notice Emitted when `worker` published new metadata.
    event WorkerMetadataUpdated(address indexed worker, bytes metadataCid);
    /// @notice Emitted when `worker` started serving `modelId`.
    event ModelServed(address indexed worker, uint32 indexed modelId);
    /// @notice Emitted when `worker` stopped serving `modelId`.
    event ModelUnserved(address indexed worker, uint32 indexed modelId);
    /// @notice Emitted when `worker` staked `amount` of `token`; `stake` is the new total.
    event Staked(address indexed worker, address indexed token, uint256 amount, uint256 stake);
    /// @notice Emitted when `worker` took `amount` of `token` out to `to`; `stake` is what is left.
    event Unstaked(address indexed worker, address indexed token, uint256 amount, address to, uint256 stake);
    /// @notice Emitted when `worker` allocated `amount` more to `venue`; `allocation` is the new total.
    event Allocated(
        address indexed worker, address indexed token, address indexed venue, uint256 amount, uint256 allocation
    );
    /// @notice Emitted when `amount` was taken off `worker`'s allocation to `venue` (by the
    /// worker, or forced); `allocation` is what is left.
    event Deallocated(
        address indexed worker, address indexed token, address indexed venue, uint256 amount, uint256 allocation
    );
    /// @notice Emitted when `worker` asked to leave `venue` without its consent, at `forceAt`.
    event ForcedDeallocationRequested(
        address indexed worker, address indexed token, address indexed venue, uint40 forceAt
    );
    /// @notice Emitted when `venue` slashed `amount` of `worker`'s `token` stake (paid to the
    /// venue); `stake` is what is left.
    event Slashed(
        address indexed worker, address indexed token, address indexed venue, uint256 amount, uint256 stake
    );

    /// @notice Join serving `modelIds` (discovery only: claims do not check them).
    /// Requirements: not registered; known models; at most MAX_MODELS_PER_CALL ids.
    /// Emits {WorkerRegistered} and one {ModelServed} per model.
    function register(bytes calldata metadataCid, uint32[] calldata modelIds) external;

    /// @notice Publish a new metadata CID. Emits {WorkerMetadataUpdated}.
    function updateMetadata(bytes calldata metadataCid) external;

    /// @notice Serve more models. Emits {ModelServed} per model.
    function addModels(uint32[] calldata modelIds) external;

    /// @notice Stop serving models; claimed jobs stay claimed. Emits {ModelUnserved} per model.
    function removeModels(uint32[] calldata modelIds) external;

    /// @notice Unregister: the served models are forgotten, the stake and allocations stay.
    /// Emits {WorkerLeft}.
    function leave() external;

    /// @notice Add `amount` of `token` to the caller's stake (ETH: send it as value; an
    /// ERC-20: approve it, no value). Registration is not required. Emits {Staked}.
    function stake(address token, uint256 amount) external payable;

    /// @notice Send `amount` of the caller's unallocated `token` stake to `to`, at once.
    /// Emits {Unstaked}.
    function unstake(address token, uint256 amount, address to) external;

    /// @notice Make `amount` of the caller's unallocated `token` stake slashable by `venue`
    /// (a contract). Emits {Allocated}.
    function allocate(address venue, address token, uint256 amount) external;

    /// @notice {stake} then {allocate} the same amount. Emits {Staked} and {Allocated}.
    function stakeAndAllocate(address venue, address token, uint256 amount) external payable;

    /// @notice Take `amount` back from `venue`; what is left must cover what the venue has
    /// locked ({IVenue-lockedOf}). Emits {Deallocated}.
    function deallocate(address venue, address token, uint256 amount) external;

    /// @notice Start the FORCE_DELAY after which {forceDeallocate} frees the whole allocation
    /// to `venue` whatever it has locked. From now on {allocationOf} is zero to the venue, so
    /// no new claim locks against it. Emits {ForcedDeallocationRequested}.
    function requestForcedDeallocation(address venue, address token) external;

    /// @notice Free the whole allocation to `venue` once the forced deallocation is due.
    /// Emits {Deallocated}.
    function forceDeallocate(address venue, address token) external;

    /// @notice Venue (msg.sender) only in effect: take up to `amount` of `worker`'s `token`
    /// stake allocated to the caller, pay it to the caller and return it. Capped at the
    /// allocation; zero when nothing is allocated. Emits {Slashed} when something was taken.
    function slash(address worker, address token, uint256 amount) external returns (uint256 slashed);

    /// @notice Whether `account` is registered, its generation (times it left) and the
    /// sha2-256 digest of its metadata CID (full CID in events).
    function worker(address account) external view returns (bool registered, uint32 generation, bytes32 metadataDigest);

    /// @notice Whether `account` is registered and serves `modelId`.
    function serves(address account, uint32 modelId) external view returns (bool);

    /// @notice sha2-256 digest of the worker's metadata CID (full CID in events).
    function metadataDigest(address account) external view returns (bytes32);

    /// @notice `account`'s `token` stake and how much of it is allocated.
    function stakeOf(address account, address token) external view returns (uint256 stake, uint256 allocated);

    /// @notice What `venue` may lock new collateral against of `account`'s `token`: the
    /// allocation, or zero while a forced deallocation from `venue` is pending. A worker could otherwise
    /// claim jobs just before `forceAt` and force out the collateral they lock; jobs claimed
    /// before the request all end before it is due (FORCE_DELAY outlasts any job).
    function allocationOf(address account, address token, address venue) external view returns (uint256);

    /// @notice `account`'s allocation of `token` to `venue` as stored: the amount, and when a
    /// requested forced deallocation may run (zero: none requested).
    function allocationState(address account, address token, address venue) external view returns (Allocation memory);

    /// @notice Sum of all `token` stakes: this registry's balance of it.
    function totalStaked(address token) external view returns (uint256);
}
