// SPDX-License-Identifier: MIT
// Devnet/test ERC20 with configurable decimals. `mint` is deliberately unrestricted: it is the
// devnet faucet. Never deploy this anywhere that matters.
pragma solidity ^0.8.22;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name, string memory symbol, uint8 decimals_) ERC20(name, symbol) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Faucet: anyone may mint to anyone.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
