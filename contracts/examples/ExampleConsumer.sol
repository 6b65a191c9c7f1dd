// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";

/// @title ExampleConsumer
/// @notice A contract that asks for inference and receives the answer by callback (the AI
/// oracle pattern). Anyone may ask, paying an ETH-priced model's price; the answer's CID is
/// kept per job. Refunds of failed jobs land in this contract's market balance, which its
/// deployer can withdraw.
/// Caveat: a callback must be cheap and must not revert on bad luck; keep it to storing the
/// answer, and do heavier work in a later transaction.
contract ExampleConsumer is IInferenceConsumer {
    /// @notice Gas the market gives {onInferenceResult}: storing a CID and emitting an event.
    uint32 public constant CALLBACK_GAS = 150_000;

    IJobMarket public immutable MARKET;
    address public immutable OWNER;

    mapping(uint256 jobId => address asker) private _askers;
    mapping(uint256 jobId => bytes outputCid) private _answers;

    /// @notice Thrown when anyone but the market delivers a result.
    error ExampleConsumerNotMarket(address caller);
    /// @notice Thrown when a result arrives for a job this contract did not create.
    error ExampleConsumerUnknownJob(uint256 jobId);
    /// @notice Thrown when anyone but the deployer withdraws refunds.
    error ExampleConsumerNotOwner(address caller);

    /// @notice Emitted when `asker` requested inference as job `jobId`.
    event Asked(uint256 indexed jobId, address indexed asker, uint32 modelId);
    /// @notice Emitted when the answer to `jobId` arrived.
    event Answered(uint256 indexed jobId, bytes outputCid);

    constructor(IJobMarket market) {
        MARKET = market;
        OWNER = msg.sender;
    }

    /// @notice Ask model `modelId` about `inputCid`; send at least the model's price.
    function ask(uint32 modelId, bytes calldata inputCid, uint40 requestDeadline, uint32 workTime)
        external
        payable
        returns (uint256 jobId)
    {
        jobId = MARKET.createJob{value: msg.value}(
            IJobMarket.JobRequest({
                modelId: modelId,
                inputCid: inputCid,
                maxPrice: uint96(msg.value),
                requestDeadline: requestDeadline,
                workTime: workTime,
                verification: 0,
                callback: address(this),
                callbackGas: CALLBACK_GAS
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

    /// @notice Who asked job `jobId`.
    function askerOf(uint256 jobId) external view returns (address) {
        return _askers[jobId];
    }

    /// @notice The deployer takes refunds (and excess ETH) out of the market.
    function withdrawRefunds(address to, uint256 amount) external {
        if (msg.sender != OWNER) revert ExampleConsumerNotOwner(msg.sender);
        MARKET.withdraw(address(0), to, amount);
    }
}
