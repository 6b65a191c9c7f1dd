// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";

/// @title ExampleConsumer
/// @notice A contract that asks for inference and receives the answer by callback (the AI
/// oracle pattern). Anyone may ask an ETH-priced model, naming the most it will pay; the
/// answer's CID is kept per job.
/// The asker, not this contract, is the job's requester: it may dispute a bad answer itself
/// (directly or by signature through the router), and every refund, excess and slash reward
/// is credited to its own market balance. This contract holds no money and has no owner.
/// Caveat: a callback must be cheap and must not revert on bad luck; keep it to storing the
/// answer, and do heavier work in a later transaction.
contract ExampleConsumer is IInferenceConsumer {
    /// @notice Gas the market gives {onInferenceResult}: storing a CID and emitting an event.
    uint32 public constant CALLBACK_GAS = 150_000;

    IJobMarket public immutable MARKET;

    mapping(uint256 jobId => address asker) private _askers;
    mapping(uint256 jobId => bytes outputCid) private _answers;

    /// @notice Thrown when anyone but the market delivers a result.
    error ExampleConsumerNotMarket(address caller);
    /// @notice Thrown when a result arrives for a job this contract did not create.
    error ExampleConsumerUnknownJob(uint256 jobId);
    /// @notice Thrown when the ETH sent is not exactly `maxPrice + callbackFee`.
    error ExampleConsumerValueMismatch(uint256 expected, uint256 sent);

    /// @notice Emitted when `asker` requested inference as job `jobId`.
    event Asked(uint256 indexed jobId, address indexed asker, uint32 modelId);
    /// @notice Emitted when the answer to `jobId` arrived.
    event Answered(uint256 indexed jobId, bytes outputCid);

    constructor(IJobMarket market) {
        MARKET = market;
    }

    /// @notice Ask model `modelId` about `inputCid`, paying at most `maxPrice` (a provider
    /// that raises its price above it makes the ask revert; what the job costs less is
    /// credited to the asker's market balance). Send exactly `maxPrice + callbackFee`.
    /// The asker becomes the job's requester.
    function ask(
        uint32 modelId,
        bytes calldata inputCid,
        uint96 maxPrice,
        uint40 requestDeadline,
        uint32 workTime,
        uint96 callbackFee
    ) external payable returns (uint256 jobId) {
        uint256 expected = uint256(maxPrice) + callbackFee;
        if (msg.value != expected) revert ExampleConsumerValueMismatch(expected, msg.value);
        jobId = MARKET.createJob{value: msg.value}(
            msg.sender,
            IJobMarket.JobRequest({
                modelId: modelId,
                inputCid: inputCid,
                maxPrice: maxPrice,
                requestDeadline: requestDeadline,
                workTime: workTime,
                verification: 0,
                pricing: 0,
                pricingData: bytes32(0),
                callback: address(this),
                callbackGas: CALLBACK_GAS,
                callbackFee: callbackFee
            })
        );
        _askers[jobId] = msg.sender;
        emit Asked(jobId, msg.sender, modelId);
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(uint256 jobId, bytes calldata outputCid) external {
        if (msg.sender != address(MARKET)) revert ExampleConsumerNotMarket(msg.sender);
        if (_askers[jobId] == address(0)) revert ExampleConsumerUnknownJob(jobId);
        _answers[jobId] = outputCid;
        emit Answered(jobId, outputCid);
    }

    /// @notice The answer to `jobId`, empty until it arrived.
    function answer(uint256 jobId) external view returns (bytes memory) {
        return _answers[jobId];
    }

    /// @notice Who asked job `jobId` (its requester).
    function askerOf(uint256 jobId) external view returns (address) {
        return _askers[jobId];
    }
}
