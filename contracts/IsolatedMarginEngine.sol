// SPDX-License-Identifier: MIT
// Destination-chain engine. Its layout, by concern:
//   engine/EngineState.sol        the state, shared with the modules, and the margin checks
//   IsolatedMarginEngine (here)   admin; CREDIT receive (LayerZero, Wormhole); routing to modules
//   engine/EngineTrading.sol      increase, decrease; accountOf, oraclePrice
//   engine/EngineSettlement.sol   withdraw, close, settle, sendQueued: the only code that sends
//                                 RELEASE/SEIZE, always paid by its caller
//   engine/EngineLiquidation.sol  liquidate: what it owes a source is queued for anyone to send
//   engine/EngineOptions.sol      options strategies: open on a signed quote, settle at expiry,
//                                 liquidate the uncovered (docs/options.md)
// The modules run by delegatecall on this contract's storage and are reached through its address
// (contracts-abi/IsolatedMarginEngine.json lists their functions too).
// Credit: accepts a CREDIT only from the registered vault of its source chain, once per lockId.
// Trading: one isolated position per (trader, positionId), margined by the collateral of one
// (source chain, token). Settlement: RELEASE (to the trader) and SEIZE (to the insurance fund) go
// back to the vault holding the collateral; profit beyond it is paid here from the settlement pool.
// The engine holds no native balance of its own: every message is paid by whoever asks for it.
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {OApp, Origin} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {MarginMessages} from "./libraries/MarginMessages.sol";
import {IWormhole} from "./interfaces/IWormhole.sol";
import {IPriceAttestations} from "./interfaces/IPriceAttestations.sol";
import {EngineState} from "./engine/EngineState.sol";

interface IEngineModule {
    function selectors() external pure returns (bytes4[] memory);
}

/// @dev EngineState must stay the FIRST base: its variables then sit at the same slots here as in
/// the modules that run on this storage by delegatecall.
contract IsolatedMarginEngine is EngineState, OApp, ReentrancyGuard {
    /// @dev The scenario grid's price steps each side at most: bounds the gas of a scenario margin.
    uint8 private constant MAX_SCENARIO_STEPS = 20;

    /// @notice The module that runs each routed function (set once, at construction).
    mapping(bytes4 => address) public moduleOf;

    constructor(address endpoint_, address owner_, address[] memory modules) OApp(endpoint_, owner_) Ownable(owner_) {
        lzEndpoint = endpoint_;
        for (uint256 m; m < modules.length; m++) {
            bytes4[] memory s = IEngineModule(modules[m]).selectors();
            for (uint256 i; i < s.length; i++) {
                if (moduleOf[s[i]] != address(0)) revert InvalidConfig();
                moduleOf[s[i]] = modules[m];
            }
        }
    }

    /// @notice Runs a module's function on this engine's storage; any other call reverts.
    fallback() external payable {
        address module = moduleOf[msg.sig];
        if (module == address(0)) revert UnknownFunction(msg.sig);
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @notice Plain native transfers are refused: nothing here is paid for from a balance.
    receive() external payable {
        revert UnknownFunction(bytes4(0));
    }

    // ---------------------------------------------------------------- owner

    /// @notice Trusts `vault` as the only sender on `lzEid`, which is EVM chain `chainId`.
    function registerSource(uint32 lzEid, uint64 chainId, address vault) external onlyOwner {
        if (lzEid == 0 || chainId == 0 || vault == address(0)) revert InvalidSource();
        _setPeer(lzEid, bytes32(uint256(uint160(vault))));
        lzVaultOf[chainId] = vault;
        chainIdOfEid[lzEid] = chainId;
        eidOfChainId[chainId] = lzEid;
        emit SourceRegistered(lzEid, chainId, vault);
    }

    /// @notice Peers are set by registerSource only, which also records the vault RELEASE/SEIZE go to.
    function setPeer(uint32, bytes32) public view override onlyOwner {
        revert InvalidConfig();
    }

    function setWormhole(address wormhole_) external onlyOwner {
        wormhole = IWormhole(wormhole_);
        emit WormholeSet(wormhole_);
    }

    /// @notice Trusts `vault` as the only Wormhole emitter of `wormholeChainId`, which is EVM chain `chainId`.
    function registerWormholeSource(uint16 wormholeChainId, uint64 chainId, address vault) external onlyOwner {
        if (wormholeChainId == 0 || chainId == 0 || vault == address(0)) revert InvalidSource();
        wormholeEmitters[wormholeChainId] = bytes32(uint256(uint160(vault)));
        chainIdOfWormhole[wormholeChainId] = chainId;
        wormholeChainOf[chainId] = wormholeChainId;
        emit WormholeSourceRegistered(wormholeChainId, chainId, vault);
    }

    function setExecutor(address executor, bool allowed) external onlyOwner {
        executors[executor] = allowed;
    }

    /// @notice The smallest withdrawal of a collateral (unless it takes everything), in its units.
    function setMinWithdraw(uint64 srcChainId, address token, uint256 minimum) external onlyOwner {
        minWithdraw[srcChainId][token] = minimum;
        emit MinWithdrawSet(srcChainId, token, minimum);
    }

    function setCollateral(uint64 srcChainId, address token, uint8 decimals, bool allowed, bool usdValued) external onlyOwner {
        if (decimals > 18) revert InvalidConfig();
        collateralConfig[srcChainId][token] = CollateralConfig(decimals, allowed, usdValued);
        emit CollateralSet(srcChainId, token, decimals, allowed, usdValued);
    }

    function setMarket(bytes32 market, Market calldata config) external onlyOwner {
        if (config.priceFeed == address(0) || config.heartbeat == 0 || config.maxAttestationAge == 0) revert InvalidConfig();
        if (config.maxDeviationBps == 0 || config.minAttestedChains < 2) revert InvalidConfig();
        if (config.mmr == 0 || config.imr < config.mmr || config.imr > WAD || config.feeRate >= WAD) revert InvalidConfig();
        // A spread at least imr − mmr would open positions already liquidatable.
        if (uint256(config.spreadBps) * 1e14 >= config.imr - config.mmr || (config.maxPrice != 0 && config.maxPrice <= config.minPrice)) revert InvalidConfig();
        // A penalty at or above the maintenance rate could never bring a position back: no partial liquidation.
        if (uint256(config.penaltyBps) * 1e14 >= config.mmr || config.keeperShareBps > BPS) revert InvalidConfig();
        OptionsConfig storage o = optionsConfigs[market];
        _checkScaledRates(config.imr, config.spreadBps, config.penaltyBps, o.sigmaRef, o.mmrMin, o.mmrMax);
        markets[market] = config;
        emit MarketSet(market, config);
    }

    /// @notice A market's options (docs/options.md): quoter 0 stops new strategies (open ones still
    /// settle and liquidate). σ within [volMin, volMax]; maintenance's scenario below the initial's.
    function setOptionsConfig(bytes32 market, OptionsConfig calldata config) external onlyOwner {
        if (config.maxExpiry == 0 || config.settleWindow == 0 || config.scenarioSteps == 0 || config.scenarioSteps > MAX_SCENARIO_STEPS) revert InvalidConfig();
        if (config.scenarioBps >= BPS || config.maintenanceScenarioBps >= config.scenarioBps || config.volShockBps >= BPS) revert InvalidConfig();
        if (config.volMin == 0 || config.sigma < config.volMin || config.sigma > config.volMax) revert InvalidConfig();
        Market storage m = markets[market];
        if (m.mmr == 0) revert InvalidConfig();
        _checkScaledRates(m.imr, m.spreadBps, m.penaltyBps, config.sigmaRef, config.mmrMin, config.mmrMax);
        optionsConfigs[market] = config;
        emit OptionsConfigSet(market, config);
    }

    /// @notice Who may post markets' volatility (the keeper's key) besides the owner.
    function setVolUpdater(address updater) external onlyOwner {
        volUpdater = updater;
        emit VolUpdaterSet(updater);
    }

    /// @notice The vol updater, or the owner, sets a market's volatility within its [volMin, volMax];
    /// the vol updater by at most maxVolStepBps of σ per post, at most once per minVolInterval.
    function setVolatility(bytes32 market, uint256 sigma) external {
        bool byOwner = msg.sender == owner();
        if (msg.sender != volUpdater && !byOwner) revert NotVolUpdater(msg.sender);
        OptionsConfig storage c = optionsConfigs[market];
        if (c.volMax == 0 || sigma < c.volMin || sigma > c.volMax) revert VolatilityOutOfBounds(sigma, c.volMin, c.volMax);
        if (!byOwner) {
            uint256 current = c.sigma;
            uint256 step = sigma > current ? sigma - current : current - sigma;
            if (c.maxVolStepBps != 0 && step * BPS > current * c.maxVolStepBps) revert VolatilityStepTooLarge(sigma, current, c.maxVolStepBps);
            if (block.timestamp < volPostedAt[market] + c.minVolInterval) revert VolatilityPostedTooSoon(volPostedAt[market], c.minVolInterval);
            volPostedAt[market] = block.timestamp;
        }
        c.sigma = uint64(sigma);
        emit VolatilitySet(market, sigma, msg.sender);
    }

    function setReturnRoute(uint64 chainId, ReturnRoute calldata route) external onlyOwner {
        if (route.transport == TRANSPORT_LAYERZERO) {
            if (eidOfChainId[chainId] == 0 || route.lzReceiveGas == 0) revert InvalidConfig();
        } else if (route.transport == TRANSPORT_WORMHOLE) {
            if (address(wormhole) == address(0) || wormholeChainOf[chainId] == 0) revert InvalidConfig();
        } else {
            revert InvalidConfig();
        }
        returnRoutes[chainId] = route;
        emit ReturnRouteSet(chainId, route.transport, route.lzReceiveGas, route.wormholeConsistency);
    }

    /// @notice The pause role: a key that can stop new positions and credits at once (the owner is a timelock).
    function setPauser(address pauser_) external onlyOwner {
        pauser = pauser_;
        emit PauserSet(pauser_);
    }

    /// @notice The pauser, or the owner, pauses or unpauses new positions and credits.
    function setPaused(bool paused_) external {
        if (msg.sender != pauser && msg.sender != owner()) revert NotPauser(msg.sender);
        paused = paused_;
        emit PausedSet(paused_, msg.sender);
    }

    /// @notice Who covers liquidation deficits on this chain (it approves the engine for the settlement token).
    function setDestinationInsurance(address insurance) external onlyOwner {
        destinationInsurance = insurance;
        emit DestinationInsuranceSet(insurance);
    }

    function setAttestations(address attestations_) external onlyOwner {
        if (attestations_ == address(0)) revert InvalidConfig();
        attestations = IPriceAttestations(attestations_);
        emit AttestationsSet(attestations_);
    }

    function setSettlement(address insuranceFund_, address settlementPool_, address settlementToken_, uint8 decimals_)
        external
        onlyOwner
    {
        if (insuranceFund_ == address(0) || settlementPool_ == address(0) || settlementToken_ == address(0) || decimals_ > 18) {
            revert InvalidConfig();
        }
        // Profit owed is counted in the token's units: the token and its decimals are set once.
        if (settlementToken != address(0) && (settlementToken != settlementToken_ || settlementDecimals != decimals_)) revert InvalidConfig();
        insuranceFund = insuranceFund_;
        settlementPool = settlementPool_;
        settlementToken = settlementToken_;
        settlementDecimals = decimals_;
        emit SettlementSet(insuranceFund_, settlementPool_, settlementToken_);
    }

    // ---------------------------------------------------------------- views

    /// @notice A market's configuration (disabled and zero when unknown).
    function marketOf(bytes32 market) external view returns (Market memory) {
        return markets[market];
    }

    function positionKeyOf(address trader, uint256 positionId) external pure returns (bytes32) {
        return _positionKeyOf(trader, positionId);
    }

    function collateralOf(address trader, uint256 positionId, uint64 srcChainId, address token)
        external
        view
        returns (uint256)
    {
        return collateral[_positionKeyOf(trader, positionId)][collateralKeyOf(srcChainId, token)];
    }

    /// @notice The position and its bound collateral in the token's units.
    function positionOf(bytes32 positionKey) external view returns (Position memory p, uint256 collateralAmount) {
        p = positions[positionKey];
        collateralAmount = collateral[positionKey][collateralKeyOf(p.srcChainId, p.token)];
    }

    // ---------------------------------------------------------------- receive

    /// @notice Delivers a signed VAA (anyone may relay it): the guardians' signatures are checked by
    /// the core, the emitter must be the registered vault of its chain, and each VAA runs once.
    function receiveWormholeMessage(bytes calldata encodedVm) external nonReentrant {
        if (!executors[msg.sender]) revert NotExecutor(msg.sender);
        (IWormhole.VM memory vm, bool valid, string memory reason) = wormhole.parseAndVerifyVM(encodedVm);
        if (!valid) revert InvalidVaa(reason);
        bytes32 emitter = wormholeEmitters[vm.emitterChainId];
        if (emitter == bytes32(0) || emitter != vm.emitterAddress) revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        if (consumedVaas[vm.hash]) revert VaaAlreadyConsumed(vm.hash);
        consumedVaas[vm.hash] = true;
        _accept(chainIdOfWormhole[vm.emitterChainId], address(uint160(uint256(vm.emitterAddress))), vm.payload, vm.hash);
    }

    /// @dev OAppReceiver.lzReceive has already checked that the endpoint calls and that
    /// origin.sender is the peer of origin.srcEid; LayerZero has cleared the payload hash.
    function _lzReceive(
        Origin calldata origin,
        bytes32 guid,
        bytes calldata message,
        address executor,
        bytes calldata /* extraData */
    ) internal override {
        if (!executors[executor]) revert NotExecutor(executor);
        _accept(chainIdOfEid[origin.srcEid], address(uint160(uint256(origin.sender))), message, guid);
    }

    /// @dev Both transports end here, with the chain and sender they authenticated.
    function _accept(uint64 srcChainId, address sender, bytes memory message, bytes32 transportId) private {
        MarginMessages.Message memory m = MarginMessages.decode(message);
        if (m.kind != MarginMessages.CREDIT) revert UnsupportedKind(m.kind);
        // The message names its origin; it must be the one the transport authenticated.
        if (srcChainId == 0 || m.originChainId != srcChainId || m.origin != sender) revert OriginMismatch();
        // It names the engine it is for: another engine trusting the same vault cannot credit it too.
        if (m.targetChainId != block.chainid || m.target != address(this)) revert NotForThisEngine(m.targetChainId, m.target);
        _credit(m, srcChainId, transportId);
    }

    /// @dev A position is margined by one (source, token): the first credit binds it. A credit of
    /// another collateral, or of a token this engine does not accept, is not lost: a RELEASE back
    /// to the trader on its source is queued (the trader, or anyone, sends it paying its fee).
    function _credit(MarginMessages.Message memory m, uint64 srcChainId, bytes32 transportId) private {
        // Paused: the CREDIT reverts and stays deliverable (LayerZero keeps the verified packet,
        // a VAA can be submitted again); the relayer waits for the unpause.
        if (paused) revert EnginePaused();
        bytes32 lockId = MarginMessages.messageId(srcChainId, m.origin, m.nonce);
        if (processed[lockId]) revert AlreadyProcessed(lockId);
        processed[lockId] = true;
        if (!collateralConfig[srcChainId][m.token].allowed) {
            emit CreditRefunded(lockId, srcChainId, m.trader, m.token, m.amount);
            _queue(_refundOf(m, srcChainId));
            return;
        }

        bytes32 positionKey = _positionKeyOf(m.trader, m.positionId);
        Position storage p = positions[positionKey];
        emit PositionCredited(lockId, positionKey, m.trader, m.positionId, srcChainId, m.token, m.amount, transportId);
        if (p.srcChainId == 0) {
            p.srcChainId = srcChainId;
            p.token = m.token;
            traderOf[positionKey] = m.trader;
            positionIdOf[positionKey] = m.positionId;
        } else if (p.srcChainId != srcChainId || p.token != m.token) {
            _queue(_refundOf(m, srcChainId));
            return;
        }
        collateral[positionKey][collateralKeyOf(srcChainId, m.token)] += m.amount;
        emit PositionChanged(positionKey, m.trader, m.positionId, p.market);
    }

    // ---------------------------------------------------------------- internals

    /// @dev With σ_ref set, the scaled maintenance rate stays in [mmrMin, mmrMax]: above the penalty
    /// (a partial liquidation must be able to restore a position) and below imr less the spread
    /// (a position must not open already liquidatable).
    function _checkScaledRates(uint256 imr, uint256 spreadBps, uint256 penaltyBps, uint256 sigmaRef, uint256 mmrMin, uint256 mmrMax)
        private
        pure
    {
        if (sigmaRef == 0) return;
        if (mmrMin > mmrMax || mmrMin <= penaltyBps * 1e14 || spreadBps * 1e14 + mmrMax >= imr) revert InvalidConfig();
    }

    function _refundOf(MarginMessages.Message memory m, uint64 srcChainId) private pure returns (Settlement memory) {
        return Settlement(srcChainId, MarginMessages.RELEASE, m.trader, m.positionId, m.token, m.amount, bytes32(0), 0);
    }
}
