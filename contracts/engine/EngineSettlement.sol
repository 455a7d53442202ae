// SPDX-License-Identifier: MIT
// The engine's settlement module: withdraw, close and settle send what a position owes its source
// chain (RELEASE to the trader, SEIZE to the insurance fund) at once, paid by their caller;
// sendQueued sends a queued one (a liquidation's, a refund) for whoever pays. This is the only
// code that sends to a source. It runs only by delegatecall from IsolatedMarginEngine.
pragma solidity ^0.8.22;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {
    ILayerZeroEndpointV2,
    MessagingParams
} from "@layerzerolabs/lz-evm-protocol-v2/contracts/interfaces/ILayerZeroEndpointV2.sol";
import {MarginMessages} from "../libraries/MarginMessages.sol";
import {LzOptions} from "../libraries/LzOptions.sol";
import {EngineState} from "./EngineState.sol";

contract EngineSettlement is EngineState, ReentrancyGuard {
    /// @notice The functions the engine routes here.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](8);
        s[0] = this.withdraw.selector;
        s[1] = this.close.selector;
        s[2] = this.settle.selector;
        s[3] = this.sendQueued.selector;
        s[4] = this.quoteSettlement.selector;
        s[5] = this.sendQueuedMany.selector;
        s[6] = this.claimProfit.selector;
        s[7] = this.claimKeeperReward.selector;
    }

    /// @notice Pays the caller the profit the settlement pool owed it, as much as the pool can now.
    function claimProfit() external nonReentrant {
        uint256 owed = profitOwed[msg.sender];
        if (owed == 0) revert NothingToSettle();
        profitOwed[msg.sender] = 0;
        _payProfit(msg.sender, owed);
    }

    /// @notice Sends the caller its liquidation rewards in `token` on `chainId` (a RELEASE, its fee from msg.value).
    function claimKeeperReward(uint64 chainId, address token) external payable nonReentrant paidByCaller {
        uint256 amount = keeperRewards[msg.sender][chainId][token];
        if (amount == 0) revert NothingToSettle();
        keeperRewards[msg.sender][chainId][token] = 0;
        _send(Settlement(chainId, MarginMessages.RELEASE, msg.sender, 0, token, amount, bytes32(0), 0));
    }

    /// @dev The caller pays every message the call sends: msg.value must cover their fees (see
    /// quoteSettlement); what is left is refunded. A balance forced onto the engine is never spent.
    modifier paidByCaller() {
        uint256 before = address(this).balance - msg.value;
        _;
        uint256 balance = address(this).balance;
        if (balance < before) revert FeeNotPaid(before - balance);
        if (balance > before) {
            (bool ok,) = msg.sender.call{value: balance - before}("");
            if (!ok) revert RefundFailed();
        }
    }

    /// @notice The native fee of one RELEASE or SEIZE to `chainId` (withdraw pays one, close and
    /// settle up to two, sendQueued one).
    function quoteSettlement(uint64 chainId) external view returns (uint256) {
        if (returnRoutes[chainId].transport == TRANSPORT_WORMHOLE) return wormhole.messageFee();
        return ILayerZeroEndpointV2(lzEndpoint).quote(_lzParams(chainId, new bytes(MarginMessages.ENCODED_LENGTH)), address(this)).nativeFee;
    }

    /// @notice Sends free collateral back to the trader on its source chain (RELEASE), paying its
    /// fee from msg.value. Free collateral never counts unrealized profit (no free option), the
    /// initial margin is measured at today's price, and an open position keeps some collateral.
    function withdraw(uint256 positionId, uint256 amount) external payable nonReentrant paidByCaller {
        bytes32 key = _positionKeyOf(msg.sender, positionId);
        // An open strategy's collateral is bound until it settles or is liquidated (EngineOptions).
        _requireNoStrategy(key);
        Position storage p = positions[key];
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        uint256 held = collateral[key][ck];
        if (amount == 0 || amount > held) revert SizeTooLarge(amount, held);
        uint256 minimum = minWithdraw[p.srcChainId][p.token];
        if (amount < minimum && amount != held) revert BelowMinimum(amount, minimum);
        collateral[key][ck] = held - amount;
        if (p.size > 0) {
            // An open position never reaches zero collateral, whatever its margin rates.
            if (amount == held) revert InsufficientMargin(0, 1);
            _requireFree(key, p, _oraclePrice(p.market));
        } else {
            _requireFree(key, p, 0);
        }
        _send(_settlementOf(key, p, MarginMessages.RELEASE, amount, 0));
        emit CollateralWithdrawn(key, amount);
        emit PositionChanged(key, msg.sender, positionId, p.market);
    }

    /// @notice Closes the whole position at this chain's oracle price and settles it: the trader's
    /// share of the collateral is RELEASEd, the loss is SEIZEd to the insurance fund (both paid from
    /// msg.value), profit beyond the collateral is paid here from the settlement pool.
    function close(uint256 positionId) external payable nonReentrant paidByCaller {
        bytes32 key = _positionKeyOf(msg.sender, positionId);
        _requireNoStrategy(key);
        Position storage p = positions[key];
        if (p.srcChainId == 0) revert NoCollateral();
        uint256 price;
        if (p.size > 0) (price,) = _reduce(p, p.size);
        // Losses realized earlier still settle as a SEIZE: it carries today's price for the vault's check.
        else if (p.market != bytes32(0)) price = _oraclePrice(p.market);
        _settleClosed(key, price);
    }

    /// @notice Anyone may settle a position with no exposure and a realized loss (its trader may
    /// never close it): the loss and fees are SEIZEd, the rest RELEASEd to the trader, the caller
    /// paying the messaging fees.
    function settle(bytes32 positionKey) external payable nonReentrant paidByCaller {
        // A debit strategy leaves the position flat with a realized loss: only settleExpired settles it.
        _requireNoStrategy(positionKey);
        Position storage p = positions[positionKey];
        if (p.srcChainId == 0 || p.size != 0 || p.realizedPnl >= 0 || p.realizedPnl - _toInt(p.fees) >= 0) revert NothingToSettle();
        _settleClosed(positionKey, p.market != bytes32(0) ? _oraclePrice(p.market) : 0);
    }

    /// @notice Sends a queued settlement (see SettlementQueued), paying its fee from msg.value.
    function sendQueued(uint256 id, Settlement calldata s) external payable nonReentrant paidByCaller {
        bytes32 queued = queuedSettlements[id];
        if (queued == bytes32(0) || queued != keccak256(abi.encode(s))) revert NotQueued(id);
        delete queuedSettlements[id];
        _send(s);
    }

    /// @notice Sends several queued settlements (a batch of liquidations'), paying all their fees from msg.value.
    function sendQueuedMany(uint256[] calldata ids, Settlement[] calldata s) external payable nonReentrant paidByCaller {
        if (ids.length != s.length) revert NotQueued(0);
        for (uint256 i; i < ids.length; i++) {
            bytes32 queued = queuedSettlements[ids[i]];
            // Sent meanwhile by someone else: skipped (its fee is refunded), so that one front-run send
            // cannot fail a keeper's whole batch.
            if (queued == bytes32(0)) continue;
            if (queued != keccak256(abi.encode(s[i]))) revert NotQueued(ids[i]);
            delete queuedSettlements[ids[i]];
            _send(s[i]);
        }
    }

    function _settleClosed(bytes32 key, uint256 price) private {
        Position memory p = positions[key];
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        uint256 amount = collateral[key][ck];
        (int256 settled, uint256 released, uint256 profitPaid) = _split(amount, p);
        Settlement memory release = _settlementOf(key, p, MarginMessages.RELEASE, released, 0);
        Settlement memory seize = _settlementOf(key, p, MarginMessages.SEIZE, amount - released, price);
        collateral[key][ck] = 0;
        delete positions[key];

        if (released > 0) _send(release);
        if (amount > released) _send(seize);
        // From what was reserved for it, then the pool as it can; the rest is owed (claimProfit): a
        // short pool never traps a trader.
        _settleProfit(key, release.trader, profitPaid);
        // Settled below zero (losses beyond the collateral): a deficit, as a liquidation's would be.
        if (settled < 0) _coverDeficit(key, p.market, uint256(-settled));
        emit PositionClosed(key, settled, released, amount - released, profitPaid);
        emit PositionChanged(key, release.trader, release.positionId, p.market);
    }

    /// @dev settled = collateral + realized PnL − fees (USD); the trader gets it back up to the
    /// collateral (in its token, rounded down), and the rest in the settlement token (rounded down).
    function _split(uint256 amount, Position memory p)
        private
        view
        returns (int256 settled, uint256 released, uint256 profitPaid)
    {
        uint256 scale = _scaleOf(p.srcChainId, p.token);
        uint256 usd = amount * scale;
        settled = _toInt(usd) + p.realizedPnl - _toInt(p.fees);
        if (settled >= _toInt(usd)) {
            released = amount;
            profitPaid = (uint256(settled) - usd) / 10 ** (18 - settlementDecimals);
        } else if (settled > 0) {
            released = uint256(settled) / scale;
        }
    }

    /// @dev Numbers the RELEASE or SEIZE in its vault's sequence and publishes it through the
    /// source's return route, paying the fee from the balance (which paidByCaller makes the caller cover).
    function _send(Settlement memory s) private {
        uint64 n = ++outboundNonce[s.chainId];
        bytes32 messageId = MarginMessages.messageId(uint64(block.chainid), address(this), n);
        bytes memory payload = MarginMessages.encode(
            MarginMessages.Message({
                version: MarginMessages.VERSION,
                kind: s.kind,
                originChainId: uint64(block.chainid),
                origin: address(this),
                nonce: n,
                trader: s.trader,
                positionId: s.positionId,
                token: s.token,
                amount: s.amount,
                targetChainId: s.chainId,
                target: _vaultOf(s.chainId),
                market: s.market,
                price: s.price
            })
        );
        bytes32 transportId = _publish(s.chainId, payload);
        emit SettlementSent(messageId, s.chainId, s.kind, s.trader, s.positionId, s.token, s.amount, transportId);
    }

    /// @dev The vault of a source chain: its LayerZero peer, or its Wormhole emitter, by the return route's transport.
    function _vaultOf(uint64 chainId) private view returns (address v) {
        ReturnRoute storage route = returnRoutes[chainId];
        if (route.transport == TRANSPORT_WORMHOLE) v = address(uint160(uint256(wormholeEmitters[wormholeChainOf[chainId]])));
        else if (route.transport == TRANSPORT_LAYERZERO) v = lzVaultOf[chainId];
        if (v == address(0)) revert NoReturnRoute(chainId);
    }

    function _lzParams(uint64 chainId, bytes memory payload) private view returns (MessagingParams memory) {
        ReturnRoute storage route = returnRoutes[chainId];
        if (route.transport != TRANSPORT_LAYERZERO) revert NoReturnRoute(chainId);
        return MessagingParams({
            dstEid: eidOfChainId[chainId],
            receiver: bytes32(uint256(uint160(_vaultOf(chainId)))),
            message: payload,
            options: LzOptions.lzReceive(route.lzReceiveGas),
            payInLzToken: false
        });
    }

    /// @dev Sends through the source's return route; returns the LayerZero guid or the VAA id.
    function _publish(uint64 chainId, bytes memory payload) private returns (bytes32) {
        if (returnRoutes[chainId].transport == TRANSPORT_WORMHOLE) {
            uint256 fee = _affordable(wormhole.messageFee());
            // The VAA nonce names the target chain: a VAA is a broadcast, the vault checks it is meant for it.
            uint64 sequence = wormhole.publishMessage{value: fee}(wormholeChainOf[chainId], payload, returnRoutes[chainId].wormholeConsistency);
            return keccak256(abi.encodePacked(wormhole.chainId(), bytes32(uint256(uint160(address(this)))), sequence));
        }
        MessagingParams memory params = _lzParams(chainId, payload);
        ILayerZeroEndpointV2 endpoint = ILayerZeroEndpointV2(lzEndpoint);
        uint256 lzFee = _affordable(endpoint.quote(params, address(this)).nativeFee);
        // Sent as this engine (delegatecall): the endpoint numbers it on the engine's path to the vault.
        return endpoint.send{value: lzFee}(params, msg.sender).guid;
    }

    /// @dev A fee the balance (the caller's msg.value, less what earlier sends of the call spent) covers.
    function _affordable(uint256 fee) private view returns (uint256) {
        if (address(this).balance < fee) revert FeeNotPaid(fee - address(this).balance);
        return fee;
    }
}
