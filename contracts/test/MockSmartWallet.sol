// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";

/// @title MockSmartWallet
/// @notice Test ERC-1271 contract wallet: a signature is valid when its EOA owner made it.
/// Shows that a smart-contract wallet can have jobs relayed from its deposit.
contract MockSmartWallet is IERC1271 {
    address public immutable OWNER;
    IJobMarket public immutable MARKET;

    constructor(address owner_, IJobMarket market) {
        OWNER = owner_;
        MARKET = market;
    }

    function depositToMarket() external payable {
        MARKET.deposit{value: msg.value}(address(0), msg.value);
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == OWNER ? this.isValidSignature.selector : bytes4(0);
    }
}
