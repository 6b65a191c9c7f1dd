// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title TokenTransfer
/// @notice Moves ETH (token address(0)) and ERC-20s in and out of a contract.
/// Incoming ERC-20 amounts are measured: a token that delivers less than asked (fee on
/// transfer, rebasing down) is refused, so books always equal balances.
library TokenTransfer {
    using SafeERC20 for IERC20;

    /// @notice Thrown when a token delivered `received` instead of `expected`.
    error TokenTransferAmountMismatch(uint256 expected, uint256 received);
    /// @notice Thrown when sending ETH to `to` failed.
    error TokenTransferEthFailed(address to, uint256 amount);

    /// @notice Pull exactly `amount` of ERC-20 `token` from `from` (needs an allowance).
    function pull(address token, address from, uint256 amount) internal {
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(from, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - before;
        if (received != amount) revert TokenTransferAmountMismatch(amount, received);
    }

    /// @notice Send `amount` of `token` (ETH when address(0), with all gas left) to `to`.
    function push(address token, address to, uint256 amount) internal {
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert TokenTransferEthFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
